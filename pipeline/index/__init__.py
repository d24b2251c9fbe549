"""The index: where analysts search scored articles.

Two backends answer the same query API: :class:`~pipeline.index.sqlite.SqliteIndex` (SQLite FTS5,
the embedded default) and :class:`~pipeline.index.elasticsearch.ElasticsearchIndex`.

Text search semantics, the same on both: the query is normalised like the documents (traditional
to simplified, full-width folded, lower case) and split on whitespace into terms; every term must
occur in the title or the body as written (a substring, so 纪委 finds 会昌县纪委监委 and a
one-character query works); a quoted ``"..."`` keeps spaces inside a term. Hits are ranked by how
well they match (BM25) unless another sort is asked for.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pipeline import text
from pipeline.records import ScoredArticle

Sort = Literal["relevance", "newest", "oldest", "level"]
MAX_WINDOW = 10_000  # offset + limit; deeper paging needs a scroll/export, not a page


@dataclass(frozen=True)
class Query:
    """What an analyst asks for. Empty text matches everything (then sorted newest first).

    The date range applies to the article's time: its publication time, or when it was fetched if
    the page showed none. ``min_level`` and ``levels`` may be combined.
    """

    text: str = ""
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    min_level: int | None = None
    departments: tuple[str, ...] = ()
    sort: Sort = "relevance"
    offset: int = 0
    limit: int = 20

    def __post_init__(self):
        if self.offset < 0 or self.limit < 0:
            raise ValueError("offset and limit must not be negative")
        if self.offset + self.limit > MAX_WINDOW:
            raise ValueError(f"offset + limit must be at most {MAX_WINDOW}; use an export instead")
        if self.since and self.since.tzinfo is None or self.until and self.until.tzinfo is None:
            raise ValueError("since/until need a time zone (e.g. +08:00)")

    def terms(self) -> list[str]:
        """The normalised search terms (see the module docstring)."""
        try:
            raw = shlex.split(self.text)
        except ValueError:  # an unbalanced quote: treat the text as plain words
            raw = self.text.replace('"', " ").split()
        return [text.normalize(r) for r in raw if text.search_units(r)]

    def effective_sort(self) -> Sort:
        return "newest" if self.sort == "relevance" and not self.terms() else self.sort


@dataclass(frozen=True)
class Hit:
    article: ScoredArticle
    score: float | None = None


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit] = field(default_factory=list)


@dataclass(frozen=True)
class Rejected:
    """A document the index refused (a mapping conflict, too large): to be dead-lettered."""

    id: str
    reason: str


class Index(Protocol):
    """Store scored articles and search them.

    ``add`` buffers; ``flush`` writes the buffer and returns the documents the index refused
    (raising :class:`~pipeline.errors.BackendUnavailable` when it could not write at all, with the
    buffer kept for the next try). Adding the same article twice leaves one document: the id is
    the content hash. ``refresh`` makes what was flushed visible to search (Elasticsearch does
    this on its own within a second; tests and the command line call it to see results at once).
    """

    def add(self, article: ScoredArticle) -> None: ...

    def flush(self) -> list[Rejected]: ...

    def refresh(self) -> None: ...

    def search(self, query: Query) -> SearchResult: ...

    def get(self, id: str) -> ScoredArticle | None: ...

    def count(self) -> int: ...

    def prune(self, before: datetime) -> int:
        """Retention: drop the articles of the months before ``before``'s month; returns how many."""

    def close(self) -> None: ...


def document(article: ScoredArticle) -> dict:
    """The flat document both backends store: the record plus the fields search needs.

    ``title_s``/``content_s`` hold the normalised text (simplified script) that text search
    matches, ``words`` the jieba words that help ranking, ``time`` the publication (or fetch) time
    used for ranges and sort.
    """
    doc = article.model_dump(mode="json")
    doc["time"] = doc["published"] or doc["fetched"]
    doc["title_s"] = text.normalize(article.title)
    doc["content_s"] = text.normalize(article.content)
    doc["words"] = " ".join(text.search_words(doc["title_s"] + "\n" + doc["content_s"],
                                              normalized=True))
    return doc


RECORD_FIELDS = frozenset(ScoredArticle.model_fields)
