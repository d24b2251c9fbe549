"""Crawl sources as operators write them in YAML (``sources.yaml``, or a folder of ``*.yaml``).

One file looks like::

    sources:
      - id: ccdi-yw                     # lower-case letters, digits, '.', '_', '-'; unique
        name: 中央纪委国家监委网站 要闻
        type: rss                        # rss (RSS 2.0, Atom, RSS 1.0) | html | sitemap | rsshub
        url: https://www.ccdi.gov.cn/...
        interval: 10m                    # 30s, 10m, 2h, 1d or a number of seconds

An ``rsshub`` source names a ``route`` instead of a url; the RSSHub instance is set once per file
(``rsshub: {url: http://127.0.0.1:1200}`` beside ``sources:``) and the url is composed at load.

:func:`load_sources` reads a file or a folder and returns a :class:`SourceSet`, or raises
:class:`~pipeline.errors.ConfigError` listing every mistake of every file as
``FILE:LINE:COL: sources[3].url: what is wrong`` (unknown keys with the nearest valid one, bad URLs,
duplicate ids naming both places, selectors that do not compile, encodings Python does not know).
"""

from __future__ import annotations

import codecs
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from parsel import Selector
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator, model_validator)

from crawlers.rsshub import check_route, feed_url
from crawlers.safety import internal_hosts, url_problem
from pipeline.errors import ConfigError
from pipeline.records import DEPARTMENTS
from pipeline.yamlfile import PATTERN_WORDS, Marks, parse_yaml, read_capped, validation_problems

__all__ = ["DEFAULT_RATE", "Extraction", "Source", "SourceSet", "SourcesFile", "load_sources", "parse_duration",
           "compile_selector", "SourceType", "Rsshub", "source_names"]

log = logging.getLogger(__name__)

SourceType = Literal["rss", "html", "sitemap", "rsshub"]
_ID = r"^[a-z0-9][a-z0-9._-]*$"
#: requests a minute to a source that sets no rate_limit_per_minute, when the settings set none
DEFAULT_RATE = 30.0
PATTERN_WORDS[_ID] = "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"2h"`` or ``"1d"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 2h or 1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 2h or 1d")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:  # YAML's .nan and .inf are floats too
        raise ValueError(f"{value!r}: a duration must be a finite number of seconds more than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and nothing a request line cannot carry (control
    characters, white space inside); anything else is refused with what to write instead."""
    text = url.strip()
    problem = url_problem(text)
    if problem is not None:
        raise ValueError(f"{url!r} {problem}")
    return text


Url = Annotated[str, BeforeValidator(lambda v: check_url(v) if isinstance(v, str) else v)]

# RFC 9110: a field name is a token; a value never holds CR, LF, NUL or another control
# character but tab (a line break would end the header and start another: header injection).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def compile_selector(selector: str) -> None:
    """Raise ValueError when ``selector`` is neither valid CSS nor (``xpath:``/``/``) valid XPath.

    Selectors starting with ``xpath:``, ``/``, ``./`` or ``(`` are XPath; everything else is CSS. A
    ``css:`` prefix is allowed for clarity. They are compiled by parsel, as the crawler uses them.
    """
    probe = Selector(text="<html><body></body></html>")
    kind, expression = split_selector(selector)
    try:
        if kind == "xpath":
            probe.xpath(expression)
        else:
            probe.css(expression)
    except Exception as exc:  # parsel raises several types (ValueError, SelectorSyntaxError, ...)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{kind.upper()} selector {selector!r} does not compile: {reason}") from None


def split_selector(selector: str) -> tuple[Literal["css", "xpath"], str]:
    """``("xpath", expr)`` or ``("css", expr)`` by the rules of :func:`compile_selector`."""
    text = selector.strip()
    if text.startswith("xpath:"):
        return "xpath", text[len("xpath:"):].strip()
    if text.startswith("css:"):
        return "css", text[len("css:"):].strip()
    if text.startswith(("/", "(", "./")):
        return "xpath", text
    return "css", text


def _selector(value: str | None) -> str | None:
    if value is not None:
        compile_selector(value)
    return value


Sel = Annotated[str | None, BeforeValidator(_selector)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Extraction(_Model):
    """Where the crawler finds things on a page. Unset selectors fall back to automatic extraction.

    ``items``/``link``/``next_page`` apply to list pages (``html`` sources); ``title``, ``body``,
    ``date`` and ``author`` to article pages. Add ``::text`` / ``/text()`` yourself where you want
    text only; an element selector's text is taken with its descendants.
    """

    items: Sel = Field(default=None, description="one match per article on a list page")
    link: Sel = Field(default="a::attr(href)", description="inside an item: the article's link")
    next_page: Sel = Field(default=None, description="the list's next-page link")
    title: Sel = None
    body: Sel = None
    date: Sel = None
    author: Sel = None


def _extraction(value: Any) -> Any:
    return {} if value == "auto" or value is None else value


class Source(_Model):
    """One crawl source. ``start_urls`` are ``url`` and ``urls`` together."""

    id: str = Field(pattern=_ID, max_length=80)
    name: str = Field(min_length=1)
    type: SourceType
    url: Url | None = None
    route: Annotated[str, BeforeValidator(lambda v: check_route(v) if isinstance(v, str) else v)] | None = \
        Field(default=None, description="rsshub: the route, e.g. /weibo/user/1195230310")
    urls: list[Url] = Field(default_factory=list)
    interval: Duration = Field(default=1800.0, description="poll period; priority sources: 2m-5m")
    quiet_after: Duration = Field(
        default=3 * 86400.0, description="report the source as quiet after this long with nothing new")
    encoding: str | None = Field(default=None, description="override a wrong declared charset")
    extraction: Annotated[Extraction, BeforeValidator(_extraction)] = Field(default_factory=Extraction)
    fetch_full_text: bool = Field(default=False, description="rss: fetch each entry's page")
    region: str | None = None
    media_type: str | None = Field(default=None, description="e.g. 纪检监察, 政府, 新闻, 论坛, 留言板")
    tags: list[str] = Field(default_factory=list)
    authority: float = Field(default=0.5, ge=0.0, le=1.0)
    department: Literal[DEPARTMENTS] | None = None  # type: ignore[valid-type]
    enabled: bool = True
    rate_limit_per_minute: float | None = Field(
        default=None, gt=0, le=600,
        description="requests a minute to this source (default: crawl.rate_limit_per_minute, "
        "30, for the pollers and the Scrapy spider alike)")
    headers: dict[str, str] = Field(default_factory=dict)
    robots: bool = Field(default=True, description="honour robots.txt (turn off only with permission)")
    internal: bool = Field(default=False, description="allow private/loopback addresses at the "
                           "hosts of url/urls (never at other hosts, not after a redirect)")
    max_pages: int = Field(default=3, ge=1, le=50, description="list pages (html) or sitemaps followed")
    max_items: int = Field(default=50, ge=1, le=1000, description="articles taken per round")
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    deadline_s: float = Field(default=60.0, gt=0, le=900, description="total time for one response")
    max_bytes: int = Field(default=10_000_000, ge=1000, le=200_000_000)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                found = codecs.lookup(value)
            except LookupError:
                found = None
            # rot13, base64, zlib are codecs too, but no page's characters are written in them
            if found is None or not getattr(found, "_is_text_encoding", True):
                raise ValueError(f"unknown encoding {value!r}; use e.g. gb18030, gbk, big5, "
                                 "utf-8") from None
        return value

    @field_validator("headers")
    @classmethod
    def _sendable_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not allowed; use letters, digits and "
                                 "'-' (e.g. Referer, Cookie)")
            if _HEADER_VALUE_BAD.search(text):
                raise ValueError(f"header {name!r}: the value contains a control character (a "
                                 "line break, NUL ...); write it on one line")
            try:
                text.encode("latin-1")
            except UnicodeEncodeError:
                raise ValueError(f"header {name!r}: HTTP headers carry ASCII only; percent-encode "
                                 "Chinese text (e.g. in a Referer URL)") from None
        return value

    @model_validator(mode="after")
    def _has_url(self) -> "Source":
        if self.type == "rsshub":
            if not self.route:
                raise ValueError("type rsshub needs 'route' (e.g. /weibo/user/1195230310)")
            return self
        if self.route:
            raise ValueError(f"'route' is for type rsshub; a {self.type} source gives 'url'")
        if not self.url and not self.urls:
            raise ValueError("give 'url' (or a list in 'urls')")
        return self

    @property
    def start_urls(self) -> list[str]:
        return ([self.url] if self.url else []) + [u for u in self.urls if u != self.url]

    @property
    def internal_hosts(self) -> frozenset[str]:
        """Where private addresses may be reached: the hosts of this source's own URLs when it
        is ``internal``, none otherwise (``crawlers.safety``)."""
        return internal_hosts(self.internal, self.start_urls)


class Rsshub(_Model):
    """The RSSHub instance the ``rsshub`` sources of a file are read through."""

    url: Url = Field(description="the instance's base URL, e.g. http://127.0.0.1:1200")
    access_key: str | None = Field(default=None, description="the instance's ACCESS_KEY, if set")
    internal: bool = Field(default=False, description="the instance is on a private network")


class SourcesFile(_Model):
    """The top level of one YAML file: ``sources:`` followed by a list of sources, and the RSSHub
    instance (``rsshub:``) when the file has ``rsshub`` sources."""

    rsshub: Rsshub | None = None
    sources: list[Source] = Field(default_factory=list)

    def without_instance(self) -> list[int]:
        """Indexes of ``rsshub`` sources that have no instance to be read through."""
        if self.rsshub is not None:
            return []
        return [i for i, s in enumerate(self.sources) if s.type == "rsshub" and not s.url]

    def resolved(self) -> list[Source]:
        """The sources, each ``rsshub`` one with the url of its route on the instance."""
        if self.rsshub is None:
            return list(self.sources)
        hub = self.rsshub
        return [s.model_copy(update={"url": s.url or feed_url(hub.url, s.route, hub.access_key),
                                     "internal": s.internal or hub.internal})
                if s.type == "rsshub" else s for s in self.sources]


@dataclass(frozen=True)
class SourceSet:
    """Sources loaded from one or more files, in file order; ``where[id]`` is ``FILE:LINE:COL``."""

    sources: tuple[Source, ...]
    where: dict[str, str]
    files: tuple[Path, ...]

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources[:20]) or "none"
        raise KeyError(f"no source {source_id!r} in {', '.join(map(str, self.files))}; known: {known}")

    @property
    def enabled(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.enabled)

    @property
    def names(self) -> dict[str, str]:
        """Source id -> the name an office reads (briefings and 专报 print it for the id)."""
        return {s.id: s.name for s in self.sources}

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for s in self.sources:
            kinds[s.type] = kinds.get(s.type, 0) + 1
        by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        return (f"{len(self.sources)} sources ({by_kind}; {len(self.enabled)} enabled) "
                f"in {len(self.files)} file{'s' if len(self.files) != 1 else ''}: ok")


def source_files(path: str | Path) -> list[Path]:
    """``path`` itself, or the ``*.yaml``/``*.yml`` files of a folder in name order."""
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
    if not p.exists():
        raise ConfigError(f"{p}: no such file or folder; give a sources.yaml or a folder of them")
    return [p]


def _raw_ids(data: Any) -> list[tuple[int, str]]:
    """``(index, id)`` of every item that has a string id, even when the file has other mistakes,
    so that duplicates are reported in the same run as everything else."""
    items = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [(i, item["id"]) for i, item in enumerate(items)
            if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _load_file(file: Path) -> tuple[list[Source], Marks, list[str], list[tuple[int, str]]]:
    try:
        raw = read_capped(file)
    except ConfigError as exc:
        return [], Marks(str(file)), exc.problems, []
    try:
        data, marks = parse_yaml(raw, str(file))
    except ConfigError as exc:
        return [], Marks(str(file)), exc.problems, []
    if data is None:
        return [], marks, [], []
    if not isinstance(data, dict):
        return [], marks, [f"{marks.find(())}: expected 'sources:' followed by a list of sources"], []
    ids = _raw_ids(data)
    try:
        parsed = SourcesFile.model_validate(data)
    except ValidationError as exc:
        return [], marks, validation_problems(exc, marks, SourcesFile), ids
    missing = [f"{marks.find(('sources', i, 'route'))}: sources[{i}].route: type rsshub needs the RSSHub "
               "instance; add 'rsshub: {url: http://HOST:1200}' at the top of the file, beside "
               "'sources:'" for i in parsed.without_instance()]
    if missing:
        return [], marks, missing, ids
    return parsed.resolved(), marks, [], ids


def source_names(path: str | Path | None) -> dict[str, str]:
    """Source id -> name from the sources file or folder at ``path``; {} when there is none or
    when it does not load (with a warning that names the problems). Briefings and 专报 then print
    the ids: a broken sources file must not stop a report going upward."""
    if path is None or not Path(path).exists():
        return {}
    try:
        return load_sources(path).names
    except ConfigError as exc:
        log.warning("source_names_unread: %s; sources are shown by their ids", exc)
        return {}


def load_sources(path: str | Path) -> SourceSet:
    """Read and validate every source under ``path``; raises ConfigError with all problems."""
    files = source_files(path)
    problems: list[str] = []
    sources: list[Source] = []
    where: dict[str, str] = {}
    for file in files:
        loaded, marks, found, ids = _load_file(file)
        problems.extend(found)
        for i, source_id in ids:
            place = marks.find(("sources", i, "id"))
            if source_id in where:
                problems.append(f"{place}: sources[{i}].id: duplicate id {source_id!r}; "
                                f"also defined at {where[source_id]}; ids must be unique")
            else:
                where[source_id] = place
        sources.extend(loaded)
    if problems:
        raise ConfigError(problems)
    return SourceSet(tuple(sources), where, tuple(files))
