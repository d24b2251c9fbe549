"""The records that flow between stages, and their versioned JSON form on the bus.

    crawlers ──Article──▶ articles.raw ──▶ classify ──ScoredArticle──▶ articles.scored ──▶ index, alerts

Records are frozen pydantic models: a stage that wants to change one makes a copy. On the bus every
record is one JSON object carrying ``"schema": "<kind>/<version>"`` so that a consumer can refuse
what it does not understand with a clear error instead of guessing.

An article's ``url`` is an http(s) URL with a host, or ``urn:yuqing:NAME`` for an article read
from a file without one (:func:`article_url_problem`): a ``javascript:`` or ``data:`` link that a
hostile feed carried is refused where an Article is made (:meth:`Article.create`, and
:func:`decode` for what arrives on the bus, where it is a :class:`RecordError` and dead-lettered).
Records read back from an index or a database are not refused for it (a tampered one must not
take a page down); the console renders only http(s) links whatever it reads.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import ClassVar, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from pipeline import text
from pipeline.errors import RecordError

Script = Literal["simplified", "traditional", "none"]

#: The offices an item can be routed to; "" means not relevant. Issue: the office list becomes
#: configurable with the alerting workflow; these three are the ones the rules name for monitoring.
DEPARTMENTS = ("宣传部", "信访室", "案管室")

#: The clock the commission's offices read: deadlines, page times without a zone, displays.
SHANGHAI = ZoneInfo("Asia/Shanghai")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: the address of an article read from a file that gave none (``pipeline.jsonl``): never a link
FILE_URN = "urn:yuqing:"


def article_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an article's address, or None when it can: an http(s) URL with a
    host and no control characters, or ``urn:yuqing:NAME``."""
    if _CONTROL.search(url):
        return "contains a control character"
    if url.startswith(FILE_URN) and len(url) > len(FILE_URN):
        return None
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL with a host"
    return None


def _refuse_url(url: str) -> None:
    problem = article_url_problem(url)
    if problem is not None:
        raise ValueError(f"url {url[:200]!r} {problem}; only http(s) article URLs are kept")


def beijing_time(text: str) -> datetime:
    """An ISO 8601 date or date-time; one written without a zone is on the Beijing clock, as the
    offices read clocks. Raises ValueError (the caller says where the text came from)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def beijing_minute(moment: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` on the Beijing clock, ``-`` for no time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Article(BaseModel):
    """One fetched article, as a crawler publishes it to ``articles.raw``.

    Build one with :meth:`Article.create`, which derives the canonical URL, content hash and
    script; the constructor validates but derives nothing. ``id`` is the content hash, so the same
    text fetched twice is the same article everywhere (index, alerts, duplicates).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    SCHEMA: ClassVar[str] = "article/1"

    source_id: str = Field(min_length=1)
    url: str = Field(min_length=1)
    canonical_url: str
    title: str
    content: str
    published: AwareDatetime | None = None
    fetched: AwareDatetime
    author: str | None = None
    encoding: str | None = None
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    script: Script
    #: how far the post had spread when it was fetched, where the source shows it: reposts,
    #: comments, likes, reads (转发, 评论, 点赞, 阅读); empty when the source shows none
    spread: dict[Literal["reposts", "comments", "likes", "reads"], int] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.content_hash

    @classmethod
    def create(
        cls,
        *,
        source_id: str,
        url: str,
        title: str,
        content: str,
        published: datetime | None = None,
        fetched: datetime | None = None,
        author: str | None = None,
        encoding: str | None = None,
        spread: dict[str, int] | None = None,
    ) -> Self:
        """Build an article from what a crawler found; derived fields are computed here.
        Raises ValueError for a ``url`` that is not an article's (:func:`article_url_problem`)."""
        _refuse_url(url)
        return cls(
            source_id=source_id,
            url=url,
            canonical_url=text.canonical_url(url),
            title=title.strip(),
            content=content.strip(),
            published=published,
            fetched=fetched or datetime.now(timezone.utc),
            author=author,
            encoding=encoding,
            content_hash=text.content_hash(title, content),
            script=text.detect_script(title + "\n" + content),
            spread=spread or {},
        )

    def key(self) -> bytes:
        """Bus key: the hash of the canonical URL, so one article (its replays and re-fetches) stays
        in one partition, in order; the reposts of one story are other articles and may not."""
        return text.url_key(self.canonical_url)


class ScoredArticle(Article):
    """An article with the classifier's judgement, published to ``articles.scored``.

    ``level``: 0 ignore, 1 一般 (daily briefing), 2 较大 (warn now), 3 重大 (report within the hour).
    ``department``: the office the item is routed to, "" when not relevant.
    ``explanation``: the terms and rules that weighed most, strongest first.
    ``story_id``/``first_source``/``repost_count``: its story cluster (empty when not clustered).
    """

    SCHEMA: ClassVar[str] = "scored/1"

    relevance: float = Field(ge=0.0, le=1.0)
    sensitivity: float = Field(ge=0.0, le=1.0)
    level: int = Field(ge=0, le=3)
    department: str = ""
    matched_rules: tuple[str, ...] = ()
    model_version: str = Field(min_length=1)
    explanation: tuple[str, ...] = ()
    #: the story (cluster of reposts and near duplicates) this article belongs to, the source that
    #: carried it first, and how many other articles of the story were seen before this one
    story_id: str = ""
    first_source: str = ""
    repost_count: int = Field(default=0, ge=0)

    @classmethod
    def from_article(cls, article: Article, **scores) -> Self:
        return cls(**article.model_dump(), **scores)


_KINDS: dict[str, type[Article]] = {"article/1": Article, "scored/1": ScoredArticle}


def encode(record: Article) -> bytes:
    """The record as UTF-8 JSON with its schema tag, for the bus.

    orjson writes it (a third of the time the standard library took; every article is encoded
    by the crawler and the classifier); the same JSON values, so :func:`decode` reads records
    written before as before.
    """
    return orjson.dumps({"schema": record.SCHEMA, **record.model_dump(mode="json")})


def decode(data: bytes, where: str, expect: type[Article] | None = None) -> Article:
    """Read a record written by :func:`encode`.

    ``where`` names the origin (topic, partition and offset, or file and line) and is part of the
    :class:`RecordError` raised for anything unreadable: not UTF-8, not JSON, an unknown schema, a
    record of another kind than ``expect``, or fields that fail validation.
    """
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # The standard library says precisely what is wrong (the message an operator reads in
        # the dead letter); what it would read but orjson will not (a lone surrogate, NaN,
        # nesting past 1,024) is no record :func:`encode` writes, and a lone surrogate let
        # through was dead-lettered later anyway, by the first stage that normalised the text
        # (after the classifier had scored the whole batch in vain and again one by one).
        _slow_loads(data, where)
        raise RecordError(where, f"not a record: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise RecordError(where, f"expected a JSON object, got {type(obj).__name__}")
    schema = obj.pop("schema", None)
    kind = _KINDS.get(schema) if isinstance(schema, str) else None  # a list is no key (fuzzing)
    if kind is None:
        known = ", ".join(_KINDS)
        raise RecordError(where, f"unknown schema {schema!r}; this version reads {known}")
    if expect is not None and not issubclass(kind, expect):
        raise RecordError(where, f"expected a {expect.__name__} record, got schema {schema!r}")
    try:
        record = kind.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RecordError(where, f"{schema}: {field}: {first['msg']}{more}") from None
    for field in ("url", "canonical_url"):
        problem = article_url_problem(getattr(record, field))
        if problem is not None:
            raise RecordError(where, f"{schema}: {field}: {getattr(record, field)[:200]!r} {problem}")
    return record


def _slow_loads(data: bytes, where: str) -> None:
    """Raise the RecordError that says why the standard library cannot read ``data``, if it
    cannot."""
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordError(where, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(where, f"not JSON ({exc.msg} at char {exc.pos})") from None
    except ValueError as exc:  # a number of thousands of digits: Python refuses to convert it
        raise RecordError(where, f"not a record: {exc}") from None
    except RecursionError:  # arrays nested thousands deep, built to exhaust the parser
        raise RecordError(where, "not a record: JSON nested too deeply") from None
