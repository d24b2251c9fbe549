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
packs a shingle's three code points into one 64-bit integer, mixes it with the SplitMix64
finaliser and votes, all in numpy over the whole text: 0.27 ms, normalisation included. Scheme 3
(today's) is scheme 2's hash over another text: the article without its template (hashtags,
``@``-mentions, pleas to spread, 实名举报 boilerplate: :func:`classifiers.identity.template_free`).
Complaints written on one template were 7 to 12 bits apart under scheme 2 and merged into one
story; without the template they are 14 bits or more apart. Different schemes give
different bits for the same text, so every row records its scheme and only fingerprints of
today's scheme are compared; rows of an earlier scheme (files written before) still join their
stories through the exact hash, and a repost with small edits of a story first seen before the
upgrade starts a new story.

Names. Within the distance a template still dominates short posts (two case notices 【审查调查】…
涉嫌严重违纪违法 about two officials are 12 bits apart), so a near match joins a story only when
the two texts name the same people, places and units (:func:`classifiers.identity.same_names`):
each row keeps the names its text mentions. The candidates are every stored fingerprint within the
distance, nearest first; the first whose names agree gives the story.

Levels. A story's level is the highest of its articles' (:meth:`StoryClusters.raise_level`): a
repost the model scores lower than its story is still the story's level, so every repost of a
较大 story reaches the alert queue and counts for its spread.

State lives in SQLite (the embedded backend), so clusters survive a restart; the in-memory copy
of the fingerprints is read from it at start and caught up at the start of every batch, under
the file's write lock, so several processes may share the file. The ``bands`` table of early
versions is no longer written.

Batches. The classify step clusters a batch of articles in one transaction
(:meth:`StoryClusters.assign_many`) and raises their stories' levels in another
(:meth:`StoryClusters.raise_levels`): a transaction and six statements per article were most of
the file's share of the cost. The answers are those of one article at a time in the batch's order:
an article meets the rows of the articles before it in the batch as it meets stored ones.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from classifiers.identity import names, same_names, template_free
from pipeline.text import normalize

__all__ = ["Assignment", "StoryClusters", "simhash", "fingerprint", "hamming", "shingle_hashes",
           "NEAR_DISTANCE", "SCHEME"]

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
    started the cluster; ``exact``: it has the same text as an article seen before it. An
    article assigned again (a replay) gets the same cluster and ``exact``, ``is_new`` false and
    the story's spread as it is now.
    """

    cluster_id: str
    first_source: str
    first_seen: datetime
    repost_count: int
    is_new: bool
    exact: bool = False


#: The fingerprint scheme :func:`fingerprint` computes (see the module's docstring).
SCHEME = 3
#: At most this many stored fingerprints within the distance have their names compared.
_CANDIDATES = 32
_BASE = np.uint64(0x110001)  # code points plus one: three fit in 64 bits, none maps to zero
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_word_table: np.ndarray | None = None
#: Row v: the 8 bits of the byte value v, least significant first.
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1,
                           bitorder="little").astype(np.float64)
#: Where each of a hash's 8 bytes counts in one bincount: lane j's values at 256 * j.
_LANE_OFFSETS = np.arange(8, dtype=np.int64) * 256


def _is_word() -> np.ndarray:
    """For every code point, whether it is a letter or digit (what ``[\\W_]`` keeps): built once,
    so that dropping punctuation is one numpy lookup per text. Every code point read as a
    one-character string and asked ``isalnum`` by numpy: a twentieth of a second, a fifth of
    what asking Python character by character took (code point 0 reads as the empty string,
    not alphanumeric either)."""
    global _word_table
    if _word_table is None:
        _word_table = np.char.isalnum(np.arange(0x110000, dtype=np.uint32).view("U1"))
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
    """64-bit SimHash (unsigned) of ``text`` (scheme 2's hash); 0 for text without letters.

    Every shingle occurrence votes on each of the 64 bits of its hash, for where the bit is set
    and against where it is not; a bit with more votes for than against is set.
    """
    hashes = shingle_hashes(text, normalized)
    if len(hashes) == 0:
        return 0
    # Counting the values of each of a hash's 8 bytes (one bincount over all 8 lanes) and then
    # the set bits of those values gives the same votes as unpacking n x 64 bits, at a third of
    # the cost for an article: the work per shingle is 8 byte reads instead of 64 bit writes.
    lanes = hashes.astype("<u8").view(np.uint8).reshape(-1, 8) + _LANE_OFFSETS
    per_value = np.bincount(lanes.ravel(), minlength=8 * 256).reshape(8, 256)
    # In floating point so that BLAS does the product (numpy's integer one is several times
    # slower); the counts are below 2**53, so every sum is exact.
    ones = (per_value.astype(np.float64) @ _BYTE_BITS).ravel()  # bit 8 * lane + k, low first
    votes = 2 * ones - len(hashes)
    return int(np.packbits(votes > 0, bitorder="little").view("<u8")[0])


def fingerprint(text: str, normalized: bool = False) -> int:
    """The story fingerprint of ``text`` in today's scheme: :func:`simhash` of the text without
    its template (:func:`classifiers.identity.template_free`)."""
    return simhash(template_free(text if normalized else normalize(text)), normalized=True)


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def exact_hash(text: str, normalized: bool = False) -> str:
    """Hash of the normalised, whitespace-collapsed text: equal for exact duplicates."""
    norm = text if normalized else normalize(text)
    return hashlib.sha256(" ".join(norm.split()).encode("utf-8")).hexdigest()


_NAMES_SEP = "\t"


def _split_names(stored: str) -> frozenset[str]:
    """The names of a row, as :meth:`StoryClusters.assign` stored them."""
    return frozenset(stored.split(_NAMES_SEP)) if stored else frozenset()


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
CREATE TABLE IF NOT EXISTS story_levels (
    cluster_id TEXT PRIMARY KEY, level INTEGER NOT NULL, department TEXT NOT NULL);
"""
#: Columns added after the first version, with what rows written before hold.
_ADDED = {"scheme": "INTEGER NOT NULL DEFAULT 1", "names": "TEXT"}


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
        self._append(new[:, 0], new[:, 1].view(np.uint64))  # stored signed, read unsigned

    def add(self, rowid: int, fingerprint: int) -> None:
        """Count a row this process has just inserted. Only while holding the file's write lock
        since the last :meth:`catch_up`: no other writer's row can then lie between."""
        self._append(np.array([rowid], dtype=np.int64), np.array([fingerprint], dtype=np.uint64))
        self.last_rowid = rowid

    def mark(self) -> tuple[int, int]:
        return self.size, self.last_rowid

    def rewind(self, mark: tuple[int, int]) -> None:
        """Forget what was added since :meth:`mark` (its transaction was rolled back)."""
        self.size, self.last_rowid = mark

    def _append(self, rowids: np.ndarray, prints: np.ndarray) -> None:
        end = self.size + len(rowids)
        if end > len(self.rowids):
            capacity = max(end, 2 * len(self.rowids))
            self.rowids = np.resize(self.rowids, capacity)
            self.prints = np.resize(self.prints, capacity)
        self.rowids[self.size:end] = rowids
        self.prints[self.size:end] = prints
        self.size = end

    def within(self, fingerprint: int, distance: int, limit: int) -> list[int]:
        """Row ids of the stored fingerprints at most ``distance`` bits from ``fingerprint``,
        nearest first (the earliest stored first among equally near ones), at most ``limit``."""
        if not self.size:
            return []
        distances = _bit_count(self.prints[:self.size] ^ np.uint64(fingerprint))
        near = np.nonzero(distances <= distance)[0]
        near = near[np.argsort(distances[near], kind="stable")][:limit]
        return [int(r) for r in self.rowids[near]]


def _bit_count(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy 2
        return np.bitwise_count(values)
    return np.unpackbits(values.view(np.uint8)).reshape(-1, 64).sum(axis=1)


class StoryClusters:
    """Assign articles to story clusters, persisted in SQLite at ``path`` (``:memory:`` works).

    :meth:`assign` and :meth:`assign_many` are idempotent per ``article_id`` (a replay after a
    crash gives the same answer with ``is_new`` false). Thread-safe: each call holds a lock while
    it reads and writes the file (the text work of :meth:`assign_many` is done before, outside
    it); one process per file.
    """

    def __init__(self, path: str | Path, near_distance: int = NEAR_DISTANCE):
        self.path = str(path)
        self.near_distance = near_distance
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        # WAL with NORMAL sync: a commit per batch without an fsync each (the embedded bus
        # does the same): durable across a process crash, only a power cut can lose the last.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # Under the write lock: classify workers starting together on a file from before
        # schemes would otherwise both add the column, and the second would fail.
        self._db.execute("BEGIN IMMEDIATE")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(articles)")}
        for column, declared in _ADDED.items():
            if column not in columns:
                self._db.execute(f"ALTER TABLE articles ADD COLUMN {column} {declared}")
        self._db.commit()
        self._prints = _Fingerprints()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StoryClusters:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def assign(self, article_id: str, text: str, seen_at: datetime, source_id: str) -> Assignment:
        """The cluster of this article: an exact duplicate's, a near duplicate's that names the
        same people and places, or a new one (:meth:`assign_many` of one article)."""
        return self.assign_many([(article_id, text, seen_at, source_id)])[0]

    def assign_many(self, articles: Sequence[tuple[str, str, datetime, str]]) -> list[Assignment]:
        """The cluster of each ``(article_id, text, seen_at, source_id)``, in order, as
        :meth:`assign` one after the other would give them, in one transaction: committed when
        this returns, nothing written when it raises (a naive ``seen_at`` raises ValueError
        before anything is read). An article of the batch is compared with those before it in
        the batch as with stored ones; an id given twice is a replay the second time."""
        articles = list(articles)
        if not articles:
            return []
        seen = [_iso(seen_at) for _, _, seen_at, _ in articles]
        # The text work first, outside the lock: it is most of the cost and needs no file.
        features = [_Features.of(text) for _, text, _, _ in articles]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # no other writer until the commit (see add())
            mark = self._prints.mark()
            try:
                answers = self._assign_all(articles, seen, features)
                self._db.commit()
            except BaseException:
                self._db.rollback()
                self._prints.rewind(mark)
                raise
        return answers

    def raise_level(self, cluster_id: str, level: int, department: str) -> tuple[int, str]:
        """Count an article of ``level`` (routed to ``department``) in its story; return the
        story's level so far, the highest of its articles', with the office of the article that
        first reached it (this article's when it is the one)."""
        return self.raise_levels([(cluster_id, level, department)])[0]

    def raise_levels(self, levels: Sequence[tuple[str, int, str]]) -> list[tuple[int, str]]:
        """:meth:`raise_level` for each ``(cluster_id, level, department)`` in order, in one
        transaction; the answers are those the calls one after the other would give."""
        if not levels:
            return []
        with self._lock, self._db:
            # Written by the upsert below, read first: no other writer in between.
            self._db.execute("BEGIN IMMEDIATE")
            stored = {cluster: (level, office) for cluster, level, office in self._select_in(
                "SELECT cluster_id, level, department FROM story_levels WHERE cluster_id IN ({})",
                list({cluster for cluster, _, _ in levels}))}
            raised: set[str] = set()
            answers = []
            for cluster, level, department in levels:
                best = stored.get(cluster)
                if best is None or level > best[0]:
                    stored[cluster] = best = (level, department)
                    raised.add(cluster)
                answers.append(best if best[0] > level else (level, department))
            self._db.executemany(
                "INSERT INTO story_levels (cluster_id, level, department) VALUES (?, ?, ?) "
                "ON CONFLICT (cluster_id) DO UPDATE SET level = excluded.level, "
                "department = excluded.department WHERE excluded.level > story_levels.level",
                [(cluster, *stored[cluster]) for cluster in raised])
        return answers

    def _assign_all(self, articles: list[tuple[str, str, datetime, str]], seen: list[str],
                    features: list[_Features]) -> list[Assignment]:
        """:meth:`assign_many` inside its transaction. Stored rows are looked up once for the
        batch; the batch's own rows are then kept in ``replayed``/``exact_of``/``stories`` as they
        are inserted, so an article finds the ones before it without reading them back."""
        # Replays: the stored row of an id answers again (its hash tells whether it was a copy).
        stored = {row[0]: row[1:] for row in self._select_in(
            "SELECT article_id, cluster_id, exact_hash, rowid FROM articles WHERE article_id IN ({})",
            [a[0] for a in articles])}
        digests = {f.digest for f in features} | {digest for _, digest, _ in stored.values()}
        # Every row of one exact hash is in the story of its first (it joined by that hash).
        first_of = {digest: (cluster, rowid) for digest, cluster, rowid in self._select_in(
            "SELECT exact_hash, cluster_id, MIN(rowid) FROM articles WHERE exact_hash IN ({}) "
            "GROUP BY exact_hash", list(digests))}
        replayed = {article_id: (cluster, first_of[digest][1] < rowid)
                    for article_id, (cluster, digest, rowid) in stored.items()}
        exact_of = {digest: cluster for digest, (cluster, _) in first_of.items()}
        self._prints.catch_up(self._db)
        stories = _Stories(self._db)
        answers = []
        for (article_id, _, _, source_id), at, found in zip(articles, seen, features):
            if article_id in replayed:
                cluster, exact = replayed[article_id]
                answers.append(stories.summary(cluster, is_new=False, exact=exact))
                continue
            cluster = exact_of.get(found.digest)
            exact = cluster is not None
            if cluster is None:
                cluster = self._nearest(found.fprint, found.names)
            is_new = cluster is None
            cluster = cluster or article_id
            row = self._db.execute(
                "INSERT INTO articles (article_id, cluster_id, exact_hash, simhash, source_id, "
                "seen_at, scheme, names) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (article_id, cluster, found.digest, _signed(found.fprint), source_id, at, SCHEME,
                 _NAMES_SEP.join(sorted(found.names)))).lastrowid
            self._prints.add(row, found.fprint)
            replayed[article_id] = (cluster, exact)
            exact_of.setdefault(found.digest, cluster)
            stories.joined(cluster, at, source_id, is_new)
            answers.append(stories.summary(cluster, is_new=is_new, exact=exact))
        return answers

    def _select_in(self, query: str, values: list) -> list[tuple]:
        """``query`` with its ``IN ({})`` filled for ``values``, in chunks below SQLite's limit on
        parameters."""
        rows: list[tuple] = []
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start:start + _IN_CHUNK]
            rows += self._db.execute(query.format(", ".join("?" * len(chunk))), chunk).fetchall()
        return rows

    def _nearest(self, fprint: int, named: frozenset[str]) -> str | None:
        """The cluster of the nearest stored fingerprint within the distance whose text names the
        same people and places (the earliest stored among equally near ones). The caller has
        caught the fingerprints up."""
        for rowid in self._prints.within(fprint, self.near_distance, _CANDIDATES):
            cluster, stored = self._db.execute("SELECT cluster_id, names FROM articles WHERE rowid = ?",
                                               (rowid,)).fetchone()
            if same_names(named, _split_names(stored or "")):
                return cluster
        return None


#: Values per ``IN (...)``: SQLite before 3.32 allows 999 parameters a statement.
_IN_CHUNK = 900


@dataclass(frozen=True)
class _Features:
    """What clustering reads of one text, all from its normalised form."""

    digest: str
    fprint: int
    names: frozenset[str]

    @classmethod
    def of(cls, text: str) -> _Features:
        norm = normalize(text)  # once for all three
        return cls(exact_hash(norm, normalized=True), fingerprint(norm, normalized=True), names(norm))


class _Stories:
    """First article and size of the stories one batch touches: read from the file once each,
    then kept up to date as the batch's articles join them."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self._known: dict[str, list] = {}  # cluster -> [first seen_at (ISO, UTC), first source, size]

    def joined(self, cluster: str, seen_at: str, source_id: str, is_new: bool) -> None:
        """An article just inserted into ``cluster`` (``is_new``: it starts it)."""
        known = self._known.get(cluster)
        if is_new:
            self._known[cluster] = [seen_at, source_id, 1]
        elif known is not None:
            known[2] += 1
            if seen_at < known[0]:  # as ORDER BY seen_at, rowid: an earlier row wins a tie
                known[0], known[1] = seen_at, source_id
        # A stored story not yet read is read with this article in it by summary().

    def summary(self, cluster: str, is_new: bool, exact: bool) -> Assignment:
        known = self._known.get(cluster)
        if known is None:
            first_source, first_seen = self._db.execute(
                "SELECT source_id, seen_at FROM articles WHERE cluster_id = ? "
                "ORDER BY seen_at, rowid LIMIT 1", (cluster,)).fetchone()
            (size,) = self._db.execute("SELECT COUNT(*) FROM articles WHERE cluster_id = ?",
                                       (cluster,)).fetchone()
            known = self._known[cluster] = [first_seen, first_source, size]
        return Assignment(cluster_id=cluster, first_source=known[1],
                          first_seen=datetime.fromisoformat(known[0]), repost_count=known[2] - 1,
                          is_new=is_new, exact=exact)
