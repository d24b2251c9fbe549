"""LocalBus: the embedded bus, an append-only log in one SQLite file.

It mirrors Kafka's model closely enough that the same contract tests pass on both: every topic has
``partitions`` partitions, a record goes to the partition its key hashes to (so one key keeps its
order), offsets count up per partition, and each consumer group keeps its committed offsets in the
same file, so they survive a restart. A group has one member at a time here: the embedded setup
runs every stage in one process, and scaling out is what Kafka is for.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from pathlib import Path
from typing import Sequence

from pipeline.bus import Message
from pipeline.errors import BackendUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    topic     TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    offset    INTEGER NOT NULL,
    key       BLOB,
    value     BLOB    NOT NULL,
    ts_ms     INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp         TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
) WITHOUT ROWID;
"""


#: how long a statement waits for another connection's write lock before the bus counts as
#: unavailable (a worker then backs off and retries the batch)
LOCK_WAIT_S = 30.0


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False)
        # WAL lets a consumer read while a producer appends; NORMAL sync is durable across a
        # process crash (only a power cut can lose the last transactions).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
    except sqlite3.Error as exc:
        raise BackendUnavailable(f"embedded bus {path}: cannot open: {exc}") from None
    return conn


def _outage_or(exc: sqlite3.OperationalError, what: str) -> Exception:
    """A lock held by another writer past :data:`LOCK_WAIT_S` (a VACUUM) passes: the step backs
    off and retries (BackendUnavailable). Anything else (a table gone, a broken file) does not,
    and is raised as it is, so that the step stops with the reason."""
    if "locked" in str(exc) or "busy" in str(exc):
        return BackendUnavailable(f"{what}: {exc}")
    return exc


def partition_for(key: bytes | None, partitions: int, counter: int) -> int:
    """Stable partition of a key (crc32), round-robin for records without one."""
    if key is None:
        return counter % partitions
    return zlib.crc32(key) % partitions


class LocalBus:
    """The embedded :class:`~pipeline.bus.Bus`: ``LocalBus(path, partitions=3)``.

    Thread-safe; several processes may share the file (SQLite locking), though a consumer group
    should have only one member at a time.
    """

    #: how often a writer applies the retention (at a flush): pruning is one indexed DELETE
    PRUNE_EVERY_S = 3600.0

    def __init__(self, path: str | Path, partitions: int = 3, topic_prefix: str = "",
                 retention_ms: int | None = None):
        self.path = Path(path)
        self.partitions = partitions
        self.prefix = topic_prefix
        self.retention_ms = retention_ms
        self._conn = _connect(self.path)
        self._lock = threading.Lock()
        self._pending: list[tuple[str, bytes | None, bytes, int]] = []
        self._counter = 0
        self._pruned_at: float | None = None  # the first flush prunes

    def publish(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        with self._lock:
            self._pending.append((self.prefix + topic, key, value, int(time.time() * 1000)))

    def flush(self, timeout_s: float = 30.0) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            if not pending:
                return
            try:
                self._append(pending)
            except sqlite3.Error as exc:
                self._pending = pending + self._pending
                raise BackendUnavailable(f"embedded bus {self.path}: write failed: {exc}") from None
            if self.retention_ms is not None and (
                    self._pruned_at is None or time.monotonic() - self._pruned_at > self.PRUNE_EVERY_S):
                self._pruned_at = time.monotonic()
                self._prune(int(time.time() * 1000) - self.retention_ms)

    def prune(self, before_ms: int) -> int:
        """Drop the records written before ``before_ms`` (epoch ms), as Kafka's retention does,
        read or not; returns how many went. The last record of each partition stays, so that
        offsets keep counting up and the groups' committed positions stay meaningful."""
        with self._lock:
            return self._prune(before_ms)

    def _prune(self, before_ms: int) -> int:
        try:
            cur = self._conn.execute(
                "DELETE FROM log WHERE ts_ms < ? AND offset < (SELECT MAX(l.offset) FROM log AS l "
                "WHERE l.topic = log.topic AND l.partition = log.partition)", (before_ms,))
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"embedded bus {self.path}: prune failed: {exc}") from None
        return cur.rowcount

    def vacuum(self) -> None:
        """Give the space of pruned records back to the file system."""
        with self._lock:
            self._conn.execute("VACUUM")

    def usage(self) -> dict[str, tuple[int, int | None]]:
        """Per topic: ``(records kept, oldest record's time in epoch ms or None)``."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT topic, COUNT(*), MIN(ts_ms) FROM log GROUP BY topic").fetchall()
        return {topic[len(self.prefix):] if topic.startswith(self.prefix) else topic: (n, oldest)
                for topic, n, oldest in rows}

    def _append(self, pending: list[tuple[str, bytes | None, bytes, int]]) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            next_offsets: dict[tuple[str, int], int] = {}
            rows = []
            for topic, key, value, ts in pending:
                partition = partition_for(key, self.partitions, self._counter)
                self._counter += 1
                slot = (topic, partition)
                if slot not in next_offsets:
                    (last,) = conn.execute(
                        "SELECT MAX(offset) FROM log WHERE topic=? AND partition=?", slot
                    ).fetchone()
                    next_offsets[slot] = -1 if last is None else last
                next_offsets[slot] += 1
                rows.append((topic, partition, next_offsets[slot], key, value, ts))
            conn.executemany("INSERT INTO log VALUES (?,?,?,?,?,?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def consumer(self, topics: str | Sequence[str], group: str) -> "LocalConsumer":
        names = [topics] if isinstance(topics, str) else list(topics)
        return LocalConsumer(self, names, group)

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Next offset to be written, per partition (for lag and tests)."""
        # Under the lock: consumers in other threads ask for their lag while a flush is in a
        # transaction on this same connection, and a statement interleaved with it made the
        # flush fail ("database is locked", "another row available") and its batch be redone.
        with self._lock:
            rows = self._conn.execute(
                "SELECT partition, MAX(offset) + 1 FROM log WHERE topic=? GROUP BY partition",
                (self.prefix + topic,),
            ).fetchall()
        return dict(rows)

    def close(self) -> None:
        self.flush()
        self._conn.close()


class LocalConsumer:
    """A consumer of :class:`LocalBus`; see :class:`pipeline.bus.Consumer` for the contract."""

    def __init__(self, bus: LocalBus, topics: list[str], group: str):
        self.bus = bus
        self.group = group
        self.topics = topics
        self._conn = _connect(bus.path)
        self._positions: dict[tuple[str, int], int] = {}
        for topic in topics:
            for partition in range(bus.partitions):
                self._positions[(topic, partition)] = self._committed(topic, partition)

    def _committed(self, topic: str, partition: int) -> int:
        row = self._conn.execute(
            "SELECT next_offset FROM group_offsets WHERE grp=? AND topic=? AND partition=?",
            (self.group, self.bus.prefix + topic, partition),
        ).fetchone()
        return row[0] if row else 0

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while True:
            batch = self._read(max_records)
            if batch or time.monotonic() >= deadline:
                return batch
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _read(self, max_records: int) -> list[Message]:
        try:
            return self._read_rows(max_records)
        except sqlite3.OperationalError as exc:
            raise _outage_or(exc, f"embedded bus {self.bus.path}: read failed") from None

    def _read_rows(self, max_records: int) -> list[Message]:
        out: list[Message] = []
        # Share the batch between partitions so a busy one does not starve the others.
        share = max(1, max_records // len(self._positions))
        for (topic, partition), position in self._positions.items():
            if len(out) >= max_records:
                break
            rows = self._conn.execute(
                "SELECT offset, key, value, ts_ms FROM log WHERE topic=? AND partition=? "
                "AND offset>=? ORDER BY offset LIMIT ?",
                (self.bus.prefix + topic, partition, position, min(share, max_records - len(out))),
            ).fetchall()
            for offset, key, value, ts in rows:
                out.append(Message(topic, partition, offset, key, value, ts))
            if rows:
                self._positions[(topic, partition)] = rows[-1][0] + 1
        return out

    def commit(self) -> None:
        rows = [
            (self.group, self.bus.prefix + topic, partition, position)
            for (topic, partition), position in self._positions.items()
        ]
        try:
            self._conn.execute("BEGIN IMMEDIATE")  # all partitions' offsets move together
        except sqlite3.OperationalError as exc:
            raise _outage_or(exc, f"embedded bus {self.bus.path}: commit failed") from None
        try:
            self._conn.executemany(
                "INSERT INTO group_offsets VALUES (?,?,?,?) ON CONFLICT(grp, topic, partition) "
                "DO UPDATE SET next_offset=excluded.next_offset",
                rows,
            )
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._conn.execute("ROLLBACK")
            raise _outage_or(exc, f"embedded bus {self.bus.path}: commit failed") from None
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def assigned(self) -> bool:
        return True  # a group has one member here: every partition is its own

    def lag(self) -> int | None:
        total = 0
        for topic in self.topics:
            ends = self.bus.end_offsets(topic)
            total += sum(max(0, ends.get(p, 0) - self._positions[(topic, p)])
                         for p in range(self.bus.partitions))
        return total

    def close(self) -> None:
        self._conn.close()
