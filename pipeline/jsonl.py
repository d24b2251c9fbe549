"""Articles as JSON Lines: the one shape every command that reads articles from a file accepts
(``yuqing classify --input``, ``yuqing demo --input``).

One JSON object a line:

    field       required  meaning
    content     yes       the text; ``text`` is accepted in its place
    title       no        the headline
    id          no        your own id, handed back by ``yuqing classify``
    source_id   no        where the article came from (default ``jsonl``)
    url         no        its address (default ``urn:yuqing:ID``, or the content hash without an id)
    published   no        ISO 8601; a time without a zone is Beijing time
    author      no

Other fields are ignored, so a labelled file (with ``level``, ``department`` ...) reads as it is.
A line that cannot be used is reported as ``FILE:LINE: what is wrong`` naming the field, and the
reading goes on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from pipeline.errors import RecordError
from pipeline.records import FILE_URN, Article, article_url_problem, beijing_time

__all__ = ["ArticleLine", "read_articles", "FIELDS"]

FIELDS = ("content", "title", "id", "source_id", "url", "published", "author")
DEFAULT_SOURCE = "jsonl"


@dataclass(frozen=True)
class ArticleLine:
    """One usable line: where it is, the caller's ``id`` (any JSON value, or None) and the fields."""

    where: str
    id: Any
    title: str
    content: str
    source_id: str
    url: str | None
    published: datetime | None
    author: str | None

    def text(self) -> str:
        """Title and content as the classifier reads them."""
        return f"{self.title}\n{self.content}" if self.title else self.content

    def article(self) -> Article:
        """The line as an :class:`Article` to publish; a missing URL is made from the id."""
        url = self.url
        if url is None:
            name = str(self.id) if self.id not in (None, "") else \
                hashlib.sha256(self.text().encode("utf-8")).hexdigest()[:16]
            url = f"{FILE_URN}{name}"
        return Article.create(source_id=self.source_id, url=url, title=self.title, content=self.content,
                              author=self.author, published=self.published)


def _string(obj: dict, field: str, where: str, default: str | None = None) -> str | None:
    value = obj.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise RecordError(where, f"field {field!r} must be a string, got {type(value).__name__}")
    return value


def _line(obj: Any, where: str) -> ArticleLine:
    if not isinstance(obj, dict):
        raise RecordError(where, f"expected a JSON object with the fields {', '.join(FIELDS)}, "
                                 f"got {type(obj).__name__}")
    field = "content" if "content" in obj else "text"
    if field not in obj:
        raise RecordError(where, "missing field 'content' (or 'text'): the article's text")
    content = _string(obj, field, where)
    if content is None:
        raise RecordError(where, f"field {field!r} is null; give the article's text")
    published = _string(obj, "published", where)
    when = None
    if published:
        try:
            when = beijing_time(published)
        except ValueError:
            raise RecordError(where, f"field 'published': {published!r} is not an ISO 8601 time "
                                     "(2026-11-20 or 2026-11-20T08:30+08:00)") from None
    url = _string(obj, "url", where)
    if url and article_url_problem(url):
        raise RecordError(where, f"field 'url': {url[:200]!r} {article_url_problem(url)}; give an "
                                 "http(s) URL, or leave it out")
    return ArticleLine(where=where, id=obj.get("id"), title=_string(obj, "title", where, "") or "",
                       content=content, source_id=_string(obj, "source_id", where) or DEFAULT_SOURCE,
                       url=url or None, published=when, author=_string(obj, "author", where))


def read_articles(lines: Iterable[str], name: str) -> Iterator[ArticleLine | RecordError]:
    """Each non-blank line of ``lines`` (from the file ``name``) as an :class:`ArticleLine`, or as
    the :class:`RecordError` that says why it cannot be used, in order."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            yield _line(json.loads(line), where)
        except RecordError as problem:
            yield problem
        except RecursionError:
            yield RecordError(where, "not JSON: nested too deeply")
        except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
            yield RecordError(where, f"not JSON ({exc})")
