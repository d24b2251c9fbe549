"""SqliteIndex: the embedded index, SQLite FTS5 in one file.

Each document's normalised title and body are stored in FTS5 as space-separated search units
(single CJK characters, ASCII words), so a phrase query over units is an exact substring search;
the jieba words sit in a third column that lifts whole-word matches in the ranking. Filters and
sorts use plain columns of a side table keyed by the content hash.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from pipeline import text
from pipeline.errors import BackendUnavailable
from pipeline.index import Hit, Query, Rejected, SearchResult, document
from pipeline.records import ScoredArticle

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rid        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    source_id  TEXT    NOT NULL,
    level      INTEGER NOT NULL,
    department TEXT    NOT NULL,
    time_ms    INTEGER NOT NULL,
    record     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_time ON docs (time_ms);
CREATE INDEX IF NOT EXISTS docs_level ON docs (level, time_ms);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    title_u, content_u, words, tokenize = 'unicode61 remove_diacritics 2'
);
"""

# bm25 column weights: a match in the title counts more than one in the body.
_BM25 = "bm25(fts, 4.0, 1.0, 2.0)"
_ORDER = {
    "relevance": "score ASC, d.time_ms DESC",  # FTS5's bm25 is lower for better matches
    "newest": "d.time_ms DESC, d.rid DESC",
    "oldest": "d.time_ms ASC, d.rid ASC",
    "level": "d.level DESC, d.time_ms DESC",
}


def _ms(value: datetime | str) -> int:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int(moment.timestamp() * 1000)


def _quote(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


class SqliteIndex:
    """The embedded :class:`~pipeline.index.Index`: ``SqliteIndex(path)``. Thread-safe."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"embedded index {self.path}: cannot open: {exc}") from None
        self._lock = threading.Lock()
        self._pending: dict[str, ScoredArticle] = {}

    def add(self, article: ScoredArticle) -> None:
        with self._lock:
            self._pending[article.id] = article

    def flush(self) -> list[Rejected]:
        with self._lock:
            pending, self._pending = self._pending, {}
            if not pending:
                return []
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                for article in pending.values():
                    self._upsert(article)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                self._pending = {**pending, **self._pending}
                raise BackendUnavailable(f"embedded index {self.path}: write failed: {exc}") from None
        return []

    def _upsert(self, article: ScoredArticle) -> None:
        doc = document(article)
        record = article.model_dump_json()
        values = (doc["source_id"], doc["level"], doc["department"], _ms(doc["time"]), record)
        conn = self._conn
        row = conn.execute("SELECT rid FROM docs WHERE id=?", (article.id,)).fetchone()
        if row:
            rid = row[0]
            conn.execute(
                "UPDATE docs SET source_id=?, level=?, department=?, time_ms=?, record=? "
                "WHERE rid=?",
                (*values, rid),
            )
            conn.execute("DELETE FROM fts WHERE rowid=?", (rid,))
        else:
            rid = conn.execute(
                "INSERT INTO docs (id, source_id, level, department, time_ms, record) "
                "VALUES (?,?,?,?,?,?)",
                (article.id, *values),
            ).lastrowid
        conn.execute(
            "INSERT INTO fts (rowid, title_u, content_u, words) VALUES (?,?,?,?)",
            (
                rid,
                " ".join(text.search_units(doc["title_s"], normalized=True)),
                " ".join(text.search_units(doc["content_s"], normalized=True)),
                doc["words"],
            ),
        )

    def refresh(self) -> None:
        """Nothing to do: a flushed transaction is visible at once."""

    def search(self, query: Query) -> SearchResult:
        where, params = self._filters(query)
        terms = query.terms()
        if terms:
            where.insert(0, "fts MATCH ?")
            params.insert(0, self._match(terms))
            source = "fts JOIN docs d ON d.rid = fts.rowid"
            score = _BM25
        else:
            source, score = "docs d", "0.0"
        clause = " AND ".join(where) or "1"
        with self._lock:
            (total,) = self._conn.execute(
                f"SELECT COUNT(*) FROM {source} WHERE {clause}", params
            ).fetchone()
            rows = self._conn.execute(
                f"SELECT d.record, {score} AS score FROM {source} WHERE {clause} "
                f"ORDER BY {_ORDER[query.effective_sort()]} LIMIT ? OFFSET ?",
                (*params, query.limit, query.offset),
            ).fetchall()
        hits = [
            Hit(ScoredArticle.model_validate_json(record), -score if terms else None)
            for record, score in rows
        ]
        return SearchResult(total=total, hits=hits)

    @staticmethod
    def _match(terms: list[str]) -> str:
        """An FTS5 expression: every term as a phrase of units in title or body; a term that is
        one whole jieba word also matches the words column, which only adds to its score."""
        parts = []
        for term in terms:
            units = _quote(" ".join(text.search_units(term)))
            expr = "{title_u content_u} : " + units
            if " " not in term:
                expr = f"({expr}) OR (words : {_quote(term)})"
            parts.append(f"({expr})")
        return " AND ".join(parts)

    @staticmethod
    def _filters(query: Query) -> tuple[list[str], list]:
        where: list[str] = []
        params: list = []
        if query.since:
            where.append("d.time_ms >= ?")
            params.append(_ms(query.since))
        if query.until:
            where.append("d.time_ms <= ?")
            params.append(_ms(query.until))
        for column, values in (
            ("source_id", query.sources),
            ("level", query.levels),
            ("department", query.departments),
        ):
            if values:
                where.append(f"d.{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if query.min_level is not None:
            where.append("d.level >= ?")
            params.append(query.min_level)
        return where, params

    def get(self, id: str) -> ScoredArticle | None:
        with self._lock:
            row = self._conn.execute("SELECT record FROM docs WHERE id=?", (id,)).fetchone()
        return ScoredArticle.model_validate_json(row[0]) if row else None

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0]

    def prune(self, before: datetime) -> int:
        """Delete the articles whose time is before the first day of ``before``'s month (UTC),
        as the Elasticsearch index drops whole months; returns how many."""
        first = before.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        cutoff = _ms(first)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM fts WHERE rowid IN (SELECT rid FROM docs WHERE time_ms < ?)", (cutoff,))
                dropped = conn.execute("DELETE FROM docs WHERE time_ms < ?", (cutoff,)).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return dropped

    def close(self) -> None:
        self.flush()
        self._conn.close()
