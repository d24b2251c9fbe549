"""Evidence: every fetched page kept compressed under ``DATA_DIR/snapshots``, addressed by content.

An alert may point at a page that is edited or deleted an hour later; the snapshot shows it as it
was. The address is the SHA-256 of the raw bytes, so a page fetched a hundred times unchanged is
stored once; which URL was fetched when is recorded in the state store (``crawlers.state``).

A file's modification time is the last time its bytes were fetched (``put`` of bytes already kept
touches the file), so retention (:meth:`SnapshotStore.prune`, ``yuqing storage prune``, keeping
``crawl.snapshot_months``) drops what was last seen before the cut-off, never a page that is still
being served unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["SnapshotStore", "Usage"]


@dataclass(frozen=True)
class Usage:
    """What a store holds: files, bytes on disk (blocks, not lengths), the oldest file's time."""

    files: int = 0
    disk_bytes: int = 0
    oldest: datetime | None = None


class SnapshotStore:
    """Content-addressed gzip files: ``root/ab/cd/<sha256>.gz``.

    ``put`` is idempotent and atomic (written to a temporary file, then renamed), so a crash never
    leaves a truncated snapshot behind a valid name.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / f"{digest}.gz"

    def put(self, body: bytes) -> str:
        """Store ``body``; returns its SHA-256 (hex)."""
        digest = hashlib.sha256(body).hexdigest()
        target = self.path(digest)
        if target.exists():
            try:
                os.utime(target)  # seen again now: retention counts from here
            except FileNotFoundError:  # pruned in between: write it again below
                pass
            else:
                return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(body)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; FileNotFoundError when there are none."""
        with gzip.open(self.path(digest), "rb") as gz:
            return gz.read()

    def _files(self):
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
        for _path, st in self._files():
            files += 1
            disk += st.st_blocks * 512
            oldest = st.st_mtime if oldest is None else min(oldest, st.st_mtime)
        return Usage(files, disk, datetime.fromtimestamp(oldest, timezone.utc) if oldest else None)

    def prune(self, before: datetime, dry_run: bool = False) -> Usage:
        """Delete the snapshots last fetched before ``before``; returns what went (or would)."""
        cut = before.timestamp()
        files = disk = 0
        for path, st in self._files():
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
