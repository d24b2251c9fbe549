"""What the crawler remembers between rounds and restarts: ``DATA_DIR/crawl_state.sqlite3``.

Per source: the conditional-GET validators (ETag, Last-Modified) and the content hash of the last
body (some servers keep the ETag when a feed changes, others change it when nothing did), the
entry ids already published, the last fetch (time, status, error), consecutive errors, the last
time anything new appeared, and when the source is due again (so a Retry-After survives a
restart). Which page was fetched when, with its snapshot's hash, is kept as evidence.

Entries whose article page could not be read are kept **pending** with what the feed said of
them: the poller tries them again on the source's next rounds whatever the feed answers (a 304
would otherwise hide them for good), waiting longer after each failure, and after
``max_attempts`` they are **given up**: kept, counted and shown, never retried. robots.txt bodies
are kept too, so a ``crawl --once`` started every few minutes does not fetch them each time.

Health (:func:`health`), one of :data:`HEALTH`:

    ok            fetched and something new within ``quiet_after``
    failing_soft  the last fetches failed for reasons that usually pass (timeouts, 503, 429)
    failing_hard  failing for a reason that needs an operator (404, robots, unsafe address,
                  too large, unreadable) or failing softly for 5 rounds in a row
    quiet         fetches succeed but nothing new for longer than ``quiet_after``: a dead feed
                  is how a report gets missed
    blocked       the site answers with an anti-bot challenge
    unknown       never fetched
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

from crawlers.base import SOFT_REASONS

__all__ = ["StateStore", "SourceState", "Validators", "Pending", "health", "HEALTH"]

HEALTH = ("ok", "failing_soft", "failing_hard", "quiet", "blocked", "unknown")
_HARD_AFTER = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS source_state (
    source_id TEXT PRIMARY KEY,
    etag TEXT, last_modified TEXT, content_hash TEXT,
    first_ok_at TEXT, last_fetch_at TEXT, last_ok_at TEXT, last_new_at TEXT,
    last_status TEXT, last_error TEXT,
    error_count INTEGER NOT NULL DEFAULT 0, total_errors INTEGER NOT NULL DEFAULT 0,
    next_due_at TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    source_id TEXT NOT NULL, entry_id TEXT NOT NULL, first_seen_at TEXT NOT NULL,
    PRIMARY KEY (source_id, entry_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fetch_log (
    source_id TEXT NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL, snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fetch_log_url ON fetch_log (url, fetched_at);
CREATE TABLE IF NOT EXISTS pending (
    source_id TEXT NOT NULL, entry_id TEXT NOT NULL, entry TEXT NOT NULL,
    attempts INTEGER NOT NULL, next_at TEXT NOT NULL, last_error TEXT, gave_up_at TEXT,
    PRIMARY KEY (source_id, entry_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS robots (
    origin TEXT PRIMARY KEY, fetched_at REAL NOT NULL, body TEXT
);
"""


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends, and the last body's hash to compare with."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class SourceState:
    """One source's row; times are aware UTC datetimes or None."""

    source_id: str
    validators: Validators
    first_ok_at: datetime | None
    last_fetch_at: datetime | None
    last_ok_at: datetime | None
    last_new_at: datetime | None
    last_status: str | None
    last_error: str | None
    error_count: int
    total_errors: int
    next_due_at: datetime | None


@dataclass(frozen=True)
class Pending:
    """An entry whose article page failed: ``entry`` is what the feed or list said of it (a
    JSON-able dict the poller wrote), ``attempts`` the failures so far."""

    source_id: str
    entry_id: str
    entry: dict
    attempts: int
    next_at: datetime
    last_error: str | None
    gave_up_at: datetime | None


def _t(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _d(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class StateStore:
    """The crawl state in one SQLite file, shared by the threads of one crawl process.

    Several crawl processes (``--shard``) share one file safely (WAL, busy timeout) because each
    source belongs to one shard only.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _ensure(self, source_id: str) -> None:
        self._run("INSERT OR IGNORE INTO source_state (source_id) VALUES (?)", (source_id,))

    # -- reading -----------------------------------------------------------------------------

    def state(self, source_id: str) -> SourceState | None:
        rows = self._run("SELECT * FROM source_state WHERE source_id = ?", (source_id,))
        return self._row(rows[0]) if rows else None

    def states(self) -> dict[str, SourceState]:
        return {row[0]: self._row(row) for row in self._run("SELECT * FROM source_state")}

    @staticmethod
    def _row(row: tuple) -> SourceState:
        (sid, etag, lm, ch, first_ok, fetch_at, ok_at, new_at, status, error, errors, total,
         due) = row
        return SourceState(sid, Validators(etag, lm, ch), _d(first_ok), _d(fetch_at), _d(ok_at),
                           _d(new_at), status, error, errors, total, _d(due))

    def validators(self, source_id: str) -> Validators:
        state = self.state(source_id)
        return state.validators if state else Validators()

    def unseen(self, source_id: str, entry_ids: Iterable[str]) -> list[str]:
        """The ids among ``entry_ids`` not yet marked seen for the source, in the given order."""
        ids = list(dict.fromkeys(entry_ids))
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            seen.update(r[0] for r in self._run(
                f"SELECT entry_id FROM seen WHERE source_id = ? AND entry_id IN ({marks})",
                [source_id, *chunk]))
        return [i for i in ids if i not in seen]

    def pending_ids(self, source_id: str) -> set[str]:
        """Every entry of the source waiting for a retry or given up: not new any more."""
        return {r[0] for r in self._run("SELECT entry_id FROM pending WHERE source_id = ?",
                                        (source_id,))}

    def due_pending(self, source_id: str, now: datetime) -> list[Pending]:
        """The source's pending entries whose wait is over (not given up), oldest first."""
        return [self._pending(r) for r in self._run(
            "SELECT * FROM pending WHERE source_id = ? AND gave_up_at IS NULL AND next_at <= ? "
            "ORDER BY next_at", (source_id, _t(now)))]

    def pending(self, source_id: str | None = None) -> list[Pending]:
        """Pending and given-up entries, of one source or of all."""
        if source_id is None:
            rows = self._run("SELECT * FROM pending ORDER BY source_id, next_at")
        else:
            rows = self._run("SELECT * FROM pending WHERE source_id = ? ORDER BY next_at",
                             (source_id,))
        return [self._pending(r) for r in rows]

    @staticmethod
    def _pending(row: tuple) -> Pending:
        sid, eid, entry, attempts, next_at, error, gave_up = row
        return Pending(sid, eid, json.loads(entry), attempts, _d(next_at), error, _d(gave_up))

    def robots(self, origin: str) -> tuple[float, str | None] | None:
        """``(fetched_at as epoch seconds, body or None when the site has none)`` or None."""
        rows = self._run("SELECT fetched_at, body FROM robots WHERE origin = ?", (origin,))
        return (rows[0][0], rows[0][1]) if rows else None

    # -- writing -----------------------------------------------------------------------------

    def mark_seen(self, source_id: str, entry_ids: Iterable[str], now: datetime) -> None:
        """Call only after the entries' articles were published and flushed (at-least-once)."""
        rows = [(source_id, i) for i in entry_ids]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO seen (source_id, entry_id, first_seen_at) "
                    "VALUES (?, ?, ?)", [(sid, eid, _t(now)) for sid, eid in rows])
                self._db.executemany("DELETE FROM pending WHERE source_id = ? AND entry_id = ?",
                                     rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def defer(self, source_id: str, entry_id: str, entry: dict, error: str, now: datetime, *,
              max_attempts: int, first_wait_s: float, cap_s: float = 6 * 3600.0) -> Pending:
        """The entry's page failed (again): keep it for a retry after a wait that doubles from
        ``first_wait_s`` (at most ``cap_s``), or give it up at ``max_attempts`` failures."""
        with self._lock:
            row = self._db.execute("SELECT attempts FROM pending WHERE source_id = ? AND "
                                   "entry_id = ?", (source_id, entry_id)).fetchone()
            attempts = (row[0] if row else 0) + 1
            wait = min(cap_s, first_wait_s * 2 ** min(attempts - 1, 30))
            next_at = now + timedelta(seconds=wait)
            gave_up = now if attempts >= max_attempts else None
            self._db.execute(
                "INSERT OR REPLACE INTO pending (source_id, entry_id, entry, attempts, next_at, "
                "last_error, gave_up_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source_id, entry_id, json.dumps(entry, ensure_ascii=False), attempts,
                 _t(next_at), error, _t(gave_up)))
        return Pending(source_id, entry_id, entry, attempts, next_at, error, gave_up)

    def prune_fetch_log(self, before: datetime, dry_run: bool = False) -> int:
        """Forget which page was fetched when, for fetches before ``before`` (their snapshots go
        by the same retention); returns how many rows went (or would)."""
        if dry_run:
            return self._run("SELECT COUNT(*) FROM fetch_log WHERE fetched_at < ?", (_t(before),))[0][0]
        with self._lock:
            return self._db.execute("DELETE FROM fetch_log WHERE fetched_at < ?",
                                    (_t(before),)).rowcount

    def counts(self) -> dict[str, int]:
        """Rows per table: what the crawl state holds (``yuqing storage``)."""
        return {table: self._run(f"SELECT COUNT(*) FROM {table}")[0][0]
                for table in ("source_state", "seen", "fetch_log", "pending", "robots")}

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the file system."""
        self._run("VACUUM")

    def keep_robots(self, origin: str, body: str | None, fetched_at: float) -> None:
        """robots.txt of ``origin`` as fetched at ``fetched_at`` (epoch seconds); None: none."""
        self._run("INSERT OR REPLACE INTO robots (origin, fetched_at, body) VALUES (?, ?, ?)",
                  (origin, fetched_at, body))

    def record_success(self, source_id: str, now: datetime, *, status: str, new_items: int,
                       validators: Validators | None = None, next_due_at: datetime | None = None
                       ) -> None:
        """A fetch round that worked: ``status`` ok / not_modified / unchanged."""
        self._ensure(source_id)
        v = validators
        self._run(
            """UPDATE source_state SET
                 etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                 content_hash = COALESCE(?, content_hash),
                 first_ok_at = COALESCE(first_ok_at, ?), last_fetch_at = ?, last_ok_at = ?,
                 last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,
                 last_status = ?, last_error = NULL, error_count = 0, next_due_at = ?
               WHERE source_id = ?""",
            (v.etag if v else None, v.last_modified if v else None, v.content_hash if v else None,
             _t(now), _t(now), _t(now), new_items, _t(now), status, _t(next_due_at), source_id))

    def record_failure(self, source_id: str, now: datetime, *, reason: str, message: str,
                       next_due_at: datetime | None = None) -> None:
        """A fetch round that failed; ``reason`` is one of :data:`crawlers.base.REASONS`."""
        self._ensure(source_id)
        self._run(
            """UPDATE source_state SET last_fetch_at = ?, last_status = ?, last_error = ?,
                 error_count = error_count + 1, total_errors = total_errors + 1, next_due_at = ?
               WHERE source_id = ?""",
            (_t(now), reason, message, _t(next_due_at), source_id))

    def record_fetch(self, source_id: str, url: str, snapshot: str, now: datetime) -> None:
        """Evidence: ``url`` was fetched at ``now`` and its body is snapshot ``snapshot``."""
        self._run("INSERT INTO fetch_log (source_id, url, fetched_at, snapshot) VALUES (?, ?, ?, ?)",
                  (source_id, url, _t(now), snapshot))

    def snapshots_of(self, url: str) -> list[tuple[datetime, str]]:
        """``(fetched_at, snapshot hash)`` for every fetch of ``url``, oldest first."""
        return [(_d(at), snap) for at, snap in self._run(
            "SELECT fetched_at, snapshot FROM fetch_log WHERE url = ? ORDER BY fetched_at", (url,))]


def health(state: SourceState | None, quiet_after_s: float, now: datetime) -> str:
    """The health word for a source (see the module docstring)."""
    if state is None or state.last_fetch_at is None:
        return "unknown"
    if state.error_count > 0:
        if state.last_status == "blocked":
            return "blocked"
        if state.last_status not in SOFT_REASONS or state.error_count >= _HARD_AFTER:
            return "failing_hard"
        return "failing_soft"
    since = state.last_new_at or state.first_ok_at
    if since is not None and now - since > timedelta(seconds=quiet_after_s):
        return "quiet"
    return "ok"
