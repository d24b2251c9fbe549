"""Story clusters: exact and near duplicates (reposts with small edits) grouped, first source kept.

A repost on a county portal of a 纪委 notice differs from the original by a byline, an added
paragraph or navigation leftovers; the alerting side wants one story with its spread (repost
count) and the first source, not fifty alerts. Two levels:

- exact: the same content hash (normalised text: simplified script, folded width, whitespace
  collapsed) is the same article;
- near: SimHash, 64 bits over character 3-gram shingles of the normalised text (without
  punctuation and whitespace). Reposts differ in a few bits; a different article on the same
  topic differs in many because most of its shingles differ. The nearest stored fingerprint is
  found by comparing with all of them at once (numpy XOR and bit count over an in-memory copy,
  a few milliseconds for a million): with a threshold of 12 bits no banding is selective (the
  sixteen 4-bit bands this module first used made about two thirds of all stored articles
  candidates, read through SQL for every new article).

Fingerprint schemes. Scheme 1 hashed every shingle with BLAKE2b, one Python call per shingle:
2.7 ms an article of 1,500 characters, the largest CPU cost of the classify worker. Scheme 2
(today's) packs a shingle's three code points into one 64-bit integer, mixes it with the
SplitMix64 finaliser and votes, all in numpy over the whole text: 0.27 ms, normalisation
included. The two give different bits for the same text, so every row records its scheme and
only fingerprints of today's scheme are compared; rows of scheme 1 (files written before) still
join their stories through the exact hash, and a repost with small edits of a story first seen
before the upgrade starts a new story.

State lives in SQLite (the embedded backend), so clusters survive a restart; the in-memory copy
of the fingerprints is read from it at start and caught up before every comparison, so several
processes may share the file. The ``bands`` table of early versions is no longer written.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from pipeline.text import normalize

__all__ = ["Assignment", "StoryClusters", "simhash", "hamming", "shingle_hashes", "NEAR_DISTANCE",
           "SCHEME"]

#: Largest Hamming distance between fingerprints of one story. Measured on our own pairs
#: (tests/crawlers/test_dedup.py): reposts with a paragraph added or a byline changed stay
#: within it, different articles on the same topic are far beyond it.
NEAR_DISTANCE = 12
_SHINGLE = 3


@dataclass(frozen=True)
class Assignment:
    """The story an article belongs to.

    ``first_source``/``first_seen``: the earliest article of the cluster (by ``seen_at``);
    ``repost_count``: articles in the cluster besides that first one; ``is_new``: this article
    started the cluster; ``exact``: it has the same text as an article already seen.
    """

    cluster_id: str
    first_source: str
    first_seen: datetime
    repost_count: int
    is_new: bool
    exact: bool = False


#: The fingerprint scheme :func:`simhash` computes (see the module's docstring).
SCHEME = 2
_BASE = np.uint64(0x110001)  # code points plus one: three fit in 64 bits, none maps to zero
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_word_table: np.ndarray | None = None


def _is_word() -> np.ndarray:
    """For every code point, whether it is a letter or digit (what ``[\\W_]`` keeps): built once,
    about a fifth of a second, so that dropping punctuation is one numpy lookup per text."""
    global _word_table
    if _word_table is None:
        _word_table = np.array([chr(c).isalnum() for c in range(0x110000)], dtype=bool)
    return _word_table


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over an array (wrapping uint64 arithmetic): every input bit
    reaches every output bit, so packed code points become well-spread hashes."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def shingle_hashes(text: str, normalized: bool = False) -> np.ndarray:
    """The 64-bit hash of every 3-gram position of the normalised text (punctuation and spaces
    removed), repeats included; one hash of the whole text when it has 1 or 2 characters
    (``normalized``: ``text`` already went through :func:`~pipeline.text.normalize`)."""
    norm = text if normalized else normalize(text)
    points = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    points = points[_is_word()[points]].astype(np.uint64) + np.uint64(1)
    if len(points) == 0:
        return points
    if len(points) < _SHINGLE:
        points = np.concatenate([points, np.zeros(_SHINGLE - len(points), dtype=np.uint64)])
    with np.errstate(over="ignore"):
        packed = (points[:-2] * _BASE + points[1:-1]) * _BASE + points[2:]
        return _mix(packed)


def simhash(text: str, normalized: bool = False) -> int:
    """64-bit SimHash (unsigned) of ``text`` in scheme 2; 0 for text without letters.

    Every shingle occurrence votes on each of the 64 bits of its hash, for where the bit is set
    and against where it is not; a bit with more votes for than against is set.
    """
    hashes = shingle_hashes(text, normalized)
    if len(hashes) == 0:
        return 0
    # Row i: the 64 bits of hash i, least significant first.
    bits = np.unpackbits(hashes.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1,
                         bitorder="little")
    votes = 2 * bits.sum(axis=0, dtype=np.int64) - len(hashes)
    return int(np.packbits(votes > 0, bitorder="little").view("<u8")[0])


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def exact_hash(text: str, normalized: bool = False) -> str:
    """Hash of the normalised, whitespace-collapsed text: equal for exact duplicates."""
    norm = text if normalized else normalize(text)
    return hashlib.sha256(" ".join(norm.split()).encode("utf-8")).hexdigest()


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value  # SQLite integers are signed 64-bit


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"seen_at must be timezone-aware, got {moment!r}")
    return moment.astimezone(timezone.utc).isoformat()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, exact_hash TEXT NOT NULL,
    simhash INTEGER NOT NULL, source_id TEXT NOT NULL, seen_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_exact ON articles(exact_hash);
CREATE INDEX IF NOT EXISTS articles_cluster ON articles(cluster_id, seen_at);
"""


class _Fingerprints:
    """Every stored fingerprint with its row id, in growable numpy arrays."""

    def __init__(self):
        self.rowids = np.empty(1024, dtype=np.int64)
        self.prints = np.empty(1024, dtype=np.uint64)
        self.size = 0
        self.last_rowid = 0

    def catch_up(self, db: sqlite3.Connection) -> None:
        """Read the rows stored since the last call (by this process or another)."""
        rows = db.execute("SELECT rowid, simhash, scheme FROM articles WHERE rowid > ? "
                          "ORDER BY rowid", (self.last_rowid,)).fetchall()
        if not rows:
            return
        self.last_rowid = rows[-1][0]
        new = np.array([row[:2] for row in rows if row[2] == SCHEME], dtype=np.int64).reshape(-1, 2)
        end = self.size + len(new)
        if end > len(self.rowids):
            capacity = max(end, 2 * len(self.rowids))
            self.rowids = np.resize(self.rowids, capacity)
            self.prints = np.resize(self.prints, capacity)
        self.rowids[self.size:end] = new[:, 0]
        self.prints[self.size:end] = new[:, 1].view(np.uint64)  # stored signed, read unsigned
        self.size = end

    def closest(self, fingerprint: int) -> tuple[int, int] | None:
        """(row id, Hamming distance) of the nearest stored fingerprint; None when empty."""
        if not self.size:
            return None
        distances = _bit_count(self.prints[:self.size] ^ np.uint64(fingerprint))
        i = int(np.argmin(distances))
        return int(self.rowids[i]), int(distances[i])


def _bit_count(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy 2
        return np.bitwise_count(values)
    return np.unpackbits(values.view(np.uint8)).reshape(-1, 64).sum(axis=1)


class StoryClusters:
    """Assign articles to story clusters, persisted in SQLite at ``path`` (``:memory:`` works).

    :meth:`assign` is idempotent per ``article_id`` (a replay after a crash gives the same
    answer with ``is_new`` false). Thread-safe; one process per file.
    """

    def __init__(self, path: str | Path, near_distance: int = NEAR_DISTANCE):
        self.path = str(path)
        self.near_distance = near_distance
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        # WAL with NORMAL sync: a commit per article without an fsync each (the embedded bus
        # does the same): durable across a process crash, only a power cut can lose the last.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # Under the write lock: classify workers starting together on a file from before
        # schemes would otherwise both add the column, and the second would fail.
        self._db.execute("BEGIN IMMEDIATE")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(articles)")}
        if "scheme" not in columns:  # its rows are scheme 1
            self._db.execute("ALTER TABLE articles ADD COLUMN scheme INTEGER NOT NULL DEFAULT 1")
        self._db.commit()
        self._prints = _Fingerprints()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StoryClusters:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def assign(self, article_id: str, text: str, seen_at: datetime, source_id: str) -> Assignment:
        """The cluster of this article: an exact duplicate's, a near duplicate's, or a new one."""
        with self._lock, self._db:
            row = self._db.execute("SELECT cluster_id FROM articles WHERE article_id = ?",
                                   (article_id,)).fetchone()
            if row:
                return self._summary(row[0], is_new=False, exact=False)
            norm = normalize(text)  # once for both hashes
            digest = exact_hash(norm, normalized=True)
            fingerprint = simhash(norm, normalized=True)
            row = self._db.execute("SELECT cluster_id FROM articles WHERE exact_hash = ? LIMIT 1",
                                   (digest,)).fetchone()
            exact = row is not None
            cluster = row[0] if row else self._nearest(fingerprint)
            is_new = cluster is None
            cluster = cluster or article_id
            self._db.execute("INSERT INTO articles (article_id, cluster_id, exact_hash, simhash, "
                             "source_id, seen_at, scheme) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (article_id, cluster, digest, _signed(fingerprint), source_id,
                              _iso(seen_at), SCHEME))
            return self._summary(cluster, is_new=is_new, exact=exact)

    def _nearest(self, fingerprint: int) -> str | None:
        """The cluster of the closest stored fingerprint within the threshold, if any (the
        earliest stored one among equally close ones)."""
        self._prints.catch_up(self._db)
        found = self._prints.closest(fingerprint)
        if found is None or found[1] > self.near_distance:
            return None
        return self._db.execute("SELECT cluster_id FROM articles WHERE rowid = ?",
                                (found[0],)).fetchone()[0]

    def _summary(self, cluster: str, is_new: bool, exact: bool) -> Assignment:
        first_source, first_seen = self._db.execute(
            "SELECT source_id, seen_at FROM articles WHERE cluster_id = ? "
            "ORDER BY seen_at, rowid LIMIT 1", (cluster,)).fetchone()
        (size,) = self._db.execute("SELECT COUNT(*) FROM articles WHERE cluster_id = ?",
                                   (cluster,)).fetchone()
        return Assignment(cluster_id=cluster, first_source=first_source,
                          first_seen=datetime.fromisoformat(first_seen), repost_count=size - 1,
                          is_new=is_new, exact=exact)
