"""Evidence: every fetched page kept compressed under ``DATA_DIR/snapshots``, addressed by content.

An alert may point at a page that is edited or deleted an hour later; the snapshot shows it as it
was. The address is the SHA-256 of the raw bytes, so a page fetched a hundred times unchanged is
stored once; which URL was fetched when is recorded in the state store (``crawlers.state``).

Layout: one WARC file a month, ``YYYY-MM.warc.gz``, each page a ``resource`` record in a gzip
member of its own (what WARC readers such as warcio expect, and what lets one record be read by
seeking to it), and ``index.sqlite3`` saying where each digest is and when it was last fetched.
A file per page, as before, spent a 4 KB disk block and a directory entry on a 1 KB compressed
page; those older files are still read, and pruned by their modification time.

Retention (:meth:`SnapshotStore.prune`, ``yuqing storage prune``, ``crawl.snapshot_months``)
counts from a page's *last* fetch: a month's file goes as a whole once its month is past the
cut-off, and the pages in it that were fetched again since are first copied into the current
month's file, so a page still served unchanged is never lost.

Several threads and processes (shards, the Scrapy subprocess) write to one store: appends and
index rows are made under an exclusive lock on ``.lock``.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["SnapshotStore", "Usage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snap (
    digest TEXT PRIMARY KEY, pack TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
    last_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS snap_pack ON snap (pack);
"""


@dataclass(frozen=True)
class Usage:
    """What a store holds (or what a prune removed): pages, bytes on disk, the oldest last fetch."""

    files: int = 0
    disk_bytes: int = 0
    oldest: datetime | None = None


def _record(body: bytes, digest: str, url: str | None, at: float) -> bytes:
    """One WARC/1.1 resource record, compressed as a gzip member of its own."""
    when = datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = ("WARC/1.1\r\nWARC-Type: resource\r\n"
            f"WARC-Record-ID: <urn:sha256:{digest}>\r\nWARC-Date: {when}\r\n"
            f"WARC-Target-URI: {url or f'urn:sha256:{digest}'}\r\n"
            f"WARC-Block-Digest: sha256:{digest}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("utf-8")
    return gzip.compress(head + body + b"\r\n\r\n", compresslevel=6, mtime=0)


def _block(record: bytes) -> bytes:
    """The page's bytes out of one compressed record."""
    raw = gzip.decompress(record)
    head, _, rest = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return rest[: int(value)]
    raise ValueError("a snapshot record without Content-Length")


class SnapshotStore:
    """Monthly WARC files with an index; see the module docstring. ``clock`` (epoch seconds) is
    a seam for tests of retention."""

    def __init__(self, root: str | os.PathLike, clock: Callable[[], float] = time.time):
        self.root = Path(root)
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    # -- the index and the lock --------------------------------------------------------------

    def _index(self) -> sqlite3.Connection:
        if self._db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.root / "index.sqlite3", timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # no fsync a page: see _append
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._index()
            with open(self.root / ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield db
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def path(self, digest: str) -> Path:
        """Where the one-file-a-page layout kept ``digest`` (still read and pruned)."""
        return self.root / digest[:2] / digest[2:4] / f"{digest}.gz"

    def _pack(self, at: float) -> str:
        return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m.warc.gz")

    # -- writing and reading -----------------------------------------------------------------

    def put(self, body: bytes, url: str | None = None) -> str:
        """Store ``body`` (fetched from ``url``); returns its SHA-256 (hex). Bytes already kept
        are not written again: their last fetch becomes now."""
        digest = hashlib.sha256(body).hexdigest()
        now = self._clock()
        with self._locked() as db:
            if db.execute("UPDATE snap SET last_at = ? WHERE digest = ?", (now, digest)).rowcount:
                return digest
            self._append(db, digest, _record(body, digest, url, now), now)
        return digest

    def _append(self, db: sqlite3.Connection, digest: str, record: bytes, last_at: float) -> None:
        """Under the lock: ``record`` at the end of the current month's file, then its row."""
        pack = self._pack(self._clock())
        with open(self.root / pack, "ab") as out:
            offset = out.tell()
            out.write(record)
            # flushed before the row is written; not fsynced, as the one-file layout was not:
            # a power cut may lose the last pages kept, and get() then fails for those digests
            out.flush()
        db.execute("INSERT OR REPLACE INTO snap (digest, pack, offset, length, last_at) "
                   "VALUES (?, ?, ?, ?, ?)", (digest, pack, offset, len(record), last_at))

    def _read(self, pack: str, offset: int, length: int) -> bytes:
        with open(self.root / pack, "rb") as f:
            f.seek(offset)
            return f.read(length)

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; FileNotFoundError when there are none."""
        with self._lock:
            row = self._index().execute("SELECT pack, offset, length FROM snap WHERE digest = ?",
                                        (digest,)).fetchone() if self.root.exists() else None
        if row is not None:
            return _block(self._read(*row))
        with gzip.open(self.path(digest), "rb") as gz:  # the older layout
            return gz.read()

    # -- what is kept, and retention ---------------------------------------------------------

    def _legacy(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*.gz"):
            try:
                yield path, path.stat()
            except FileNotFoundError:  # pruned by another process meanwhile
                continue

    def usage(self) -> Usage:
        files = disk = 0
        oldest: float | None = None
        if self.root.exists():
            with self._lock:
                count, first = self._index().execute(
                    "SELECT COUNT(*), MIN(last_at) FROM snap").fetchone()
            files, oldest = count, first
            disk = sum(p.stat().st_blocks * 512 for p in self.root.glob("*.warc.gz"))
        for _path, st in self._legacy():
            files += 1
            disk += st.st_blocks * 512
            oldest = st.st_mtime if oldest is None else min(oldest, st.st_mtime)
        return Usage(files, disk, datetime.fromtimestamp(oldest, timezone.utc) if oldest else None)

    def prune(self, before: datetime, dry_run: bool = False) -> Usage:
        """Drop the pages last fetched before ``before``; returns what went (or would)."""
        cut = before.timestamp()
        files = disk = 0
        if self.root.exists():
            old_packs = [p for p in sorted(self.root.glob("*.warc.gz"))
                         if p.name < self._pack(cut)]
            with self._locked() as db:
                for pack in old_packs:
                    gone = db.execute("SELECT COUNT(*) FROM snap WHERE pack = ? AND last_at < ?",
                                      (pack.name, cut)).fetchone()[0]
                    files += gone
                    disk += pack.stat().st_blocks * 512
                    if dry_run:
                        continue
                    live = db.execute("SELECT digest, offset, length, last_at FROM snap "
                                      "WHERE pack = ? AND last_at >= ?", (pack.name, cut)).fetchall()
                    for digest, offset, length, last_at in live:  # fetched since: carried over
                        self._append(db, digest, self._read(pack.name, offset, length), last_at)
                    db.execute("DELETE FROM snap WHERE pack = ?", (pack.name,))
                    pack.unlink()
        for path, st in self._legacy():
            if st.st_mtime >= cut:
                continue
            files += 1
            disk += st.st_blocks * 512
            if not dry_run:
                path.unlink(missing_ok=True)
        if not dry_run and self.root.exists():
            for folder in sorted(self.root.glob("??/??"), reverse=True) + sorted(self.root.glob("??")):
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    pass
        return Usage(files, disk, None)
