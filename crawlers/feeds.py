"""Feeds and news sitemaps, from bytes to small frozen records (third-party output wrapped here).

* :func:`parse_feed` reads RSS 2.0, Atom and RSS 1.0 with feedparser. A malformed feed (feedparser's
  ``bozo``) still yields what could be read; the problem is returned in ``ParsedFeed.problem`` for
  the caller to log with the source id and URL. feedparser never sees the network: the fetcher
  gives it bytes. It removes entity declarations it does not consider safe and turns off external
  entities, and the expat it runs on limits entity amplification, so an entity-expansion feed
  does not exhaust memory (tests/crawlers/test_feeds.py shows it).
  When the declared encoding does not hold (feedparser then falls back to windows-1252 or
  iso-8859-2 and would hand on mojibake), the bytes are decoded by
  ``crawlers.normalize.encoding``'s rules (which sniff GB18030 and Big5, and read UTF-8 with a
  few cut characters as UTF-8) and parsed again; the wrong declaration is the ``problem``.
* :func:`parse_sitemap` reads ``<urlset>`` (with Google News ``news:`` fields) and
  ``<sitemapindex>`` with defusedxml, which refuses DTDs with entities outright: a sitemap has
  no business declaring any. A gzipped sitemap is inflated up to ``max_bytes`` and no further.

Entry identity (:attr:`FeedEntry.entry_id`) is the guid/id when the feed gives one, else the link,
else a hash of title and date: some feeds give every item the same link and only the guid
tells them apart, others give no guid at all.
"""

from __future__ import annotations

import calendar
import gzip
import hashlib
import html
import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import feedparser
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from crawlers.normalize.dates import parse_published
from crawlers.normalize.encoding import decode_html_detail
from pipeline.records import SHANGHAI

__all__ = ["FeedEntry", "ParsedFeed", "SitemapEntry", "ParsedSitemap", "parse_feed", "parse_sitemap",
           "html_to_text"]


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed. ``content`` is the fullest text the feed carries (content, else
    summary), as plain text; ``published`` is aware (UTC when the feed said nothing else)."""

    entry_id: str
    link: str
    title: str
    content: str
    published: datetime | None
    published_raw: str | None
    author: str | None
    #: what was wrong with the item but did not lose it (a date that is no date), for a warning
    problem: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """What was read from a feed: ``kind`` like ``rss20``/``atom10``/``rss10``, ``problem`` the
    parser's complaint when the feed is malformed (entries may still be there); ``skipped`` says,
    item by item, why an item could not be read at all (the others are in ``entries``)."""

    kind: str
    title: str
    entries: tuple[FeedEntry, ...]
    problem: str | None = None
    encoding: str | None = None
    skipped: tuple[str, ...] = ()


_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6]|section|article)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
# Raw control characters (broken CMS exports) never reach the bus.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def html_to_text(markup: str) -> str:
    """Plain text from a feed's HTML fragment: block tags become line breaks, entities decoded."""
    markup = _CONTROL.sub("", markup)
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    text = _TAG.sub("", _BLOCK.sub("\n", markup))
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)


# A date string that names its zone; without one, feedparser would take it as UTC while Chinese
# sites mean Beijing time. CST is not one of them here: feedparser reads it as US Central time,
# while on Chinese sites it is China Standard Time, which normalisation's parser reads (as it
# does for pages).
_HAS_ZONE = re.compile(r"(?:Z|[+-]\d\d:?\d\d|\b(?:GMT|UTC?|[EMP][SD]T|CDT))\s*$", re.I)


def _published(entry: Any) -> tuple[datetime | None, str | None]:
    raw = entry.get("published") or entry.get("updated") or entry.get("dc_date")
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if raw and not _HAS_ZONE.search(raw.strip()):
        local = _parse_date(raw)
        if local is not None:
            return local, raw
    if parsed:
        try:
            # feedparser normalises to UTC struct_time; timegm keeps it UTC
            return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc), raw
        except (ValueError, OverflowError, OSError):
            # a placeholder like MySQL's 0000-00-00 00:00:00 comes out before year 1
            pass
    if raw:
        return _parse_date(raw), raw
    return None, None


def _parse_date(raw: str) -> datetime | None:
    """Dates feedparser cannot read (``2024年3月5日 10:20``, ``2024-03-05 10:20``): normalisation's
    parser, which assumes Asia/Shanghai."""
    try:
        return parse_published(raw)
    except Exception:  # a date we cannot read must not lose the entry
        return None


def _entry(entry: Any) -> FeedEntry | None:
    link = (entry.get("link") or "").strip()
    title = html_to_text(entry.get("title") or "")
    contents = entry.get("content") or []
    body = max((c.get("value", "") for c in contents), key=len, default="")
    summary = entry.get("summary") or entry.get("description") or ""
    text = html_to_text(body if len(body) >= len(summary) else summary)
    published, raw = _published(entry)
    guid = (entry.get("id") or "").strip()
    if not (link or title or text):
        return None
    entry_id = guid or link or "sha256:" + hashlib.sha256(
        f"{title}\n{raw or ''}\n{text[:200]}".encode()).hexdigest()
    problem = None
    if raw and published is None:
        problem = f"the date {raw.strip()[:80]!r} is not a date that can be read; kept without a date"
    return FeedEntry(entry_id=entry_id, link=link, title=title, content=text, published=published,
                     published_raw=raw, author=(entry.get("author") or None), problem=problem)


def _item_name(entry: Any) -> str:
    """How a warning names an item: its link, else its guid, else its title."""
    for key in ("link", "id", "title"):
        value = entry.get(key) if hasattr(entry, "get") else None
        if isinstance(value, str) and value.strip():
            return f"item {value.strip()[:200]!r}"
    return "an item without link, guid or title"


def _entries(raw_entries: Any) -> tuple[tuple[FeedEntry, ...], tuple[str, ...]]:
    """The feed's items read one by one: an item that cannot be read is skipped with why, and
    never costs the others."""
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for raw in raw_entries:
        try:
            entry = _entry(raw)
        except Exception as exc:  # one odd item must not lose the feed's other items
            skipped.append(f"{_item_name(raw)} skipped: {type(exc).__name__}: {exc}")
            continue
        if entry is not None:
            entries.append(entry)
    return tuple(entries), tuple(skipped)


# Character references, decimal or hex; the ';' is optional because feedparser's lenient parser
# takes them without it too.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _charref_code(match: re.Match) -> int:
    digits = match[1] or match[2]
    if len(digits.lstrip(b"0")) > 8:
        return -1  # far past U+10FFFF, and int() of thousands of digits is refused
    return int(digits, 16 if match[1] else 10)


def _repair_charrefs(data: bytes) -> bytes:
    """Character references that name no character made real or dropped.

    Sites written in JavaScript or Java escape an emoji as its two UTF-16 halves
    (``&#55357;&#56864;``); each half alone is no character, and feedparser raises on one
    instead of reading the feed. An adjacent pair becomes the one reference it means; a lone half
    or a number past U+10FFFF is dropped. The references are ASCII, and in the ASCII-compatible
    encodings feeds use (UTF-8, GB18030, Big5) no multibyte character contains ``&#`` or digits.
    """
    if b"&#" not in data:
        return data
    parts: list[bytes] = []
    last = 0
    changed = False
    matches = list(_CHARREF.finditer(data))
    i = 0
    while i < len(matches):
        match = matches[i]
        code = _charref_code(match)
        i += 1
        if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            continue
        replacement = b""
        end = match.end()
        if 0xD800 <= code <= 0xDBFF and i < len(matches) and matches[i].start() == end:
            low = _charref_code(matches[i])
            if 0xDC00 <= low <= 0xDFFF:
                whole = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                replacement = b"&#%d;" % whole
                end = matches[i].end()
                i += 1
        parts += [data[last:match.start()], replacement]
        last = end
        changed = True
    if not changed:
        return data
    parts.append(data[last:])
    return b"".join(parts)


def parse_feed(body: bytes, url: str, content_type: str | None = None,
               encoding: str | None = None) -> ParsedFeed:
    """Parse feed bytes fetched from ``url``. ``encoding`` overrides a wrong declared charset.

    Never raises on bad input: an unreadable document gives no entries and a ``problem``.
    """
    data = body
    if encoding:
        text = body.decode(encoding, "replace")
        # re-encode as UTF-8 and say so, whatever the XML declaration claimed
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
        data = ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8")
    headers = {"content-location": url, "content-type": "application/xml"}
    if content_type and not encoding:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(_repair_charrefs(data), response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=True)
    except Exception as exc:  # a feedparser bug on odd input: the caller reports it, not a crash
        return ParsedFeed(kind="unknown", title="", entries=(),
                          problem=f"the feed parser failed: {type(exc).__name__}: {exc}")
    exc = parsed.get("bozo_exception")
    if not encoding and isinstance(exc, feedparser.CharacterEncodingOverride):
        redone = _reparse_misdeclared(body, url, content_type, str(exc))
        if redone is not None:
            return redone
    entries, skipped = _entries(parsed.entries)
    problem = None
    # a feed served as text/html is common and harmless: not worth a warning every round
    if parsed.get("bozo") and not isinstance(exc, feedparser.NonXMLContentType):
        problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not entries and not parsed.get("version") and problem is None:
        problem = "not a feed (no RSS, Atom or RSS 1.0 document found)"
    return ParsedFeed(kind=parsed.get("version") or "unknown",
                      title=html_to_text(parsed.feed.get("title", "")), entries=entries,
                      problem=problem, encoding=parsed.get("encoding") or None, skipped=skipped)


def _reparse_misdeclared(body: bytes, url: str, content_type: str | None,
                         complaint: str) -> ParsedFeed | None:
    """The feed parsed again in the encoding its bytes really are in, when that can be told
    (else None: the caller keeps feedparser's reading, and the crawler's check for garbled text
    reports it). UTF-8 with a few cut characters counts as told: read as UTF-8 with U+FFFD in
    their place, the other items stay intact, where feedparser's Latin fallback would garble
    every item of the feed."""
    decoded = decode_html_detail(body, content_type, where=url)
    if (decoded.lossy and decoded.encoding != "utf-8") or \
            decoded.encoding in ("cp1252", "latin-1", "iso8859-1"):
        return None
    again = parse_feed(body, url, content_type, encoding=decoded.encoding)
    if decoded.lossy:
        note = (f"{complaint}; the bytes are utf-8 but for a few invalid sequences (text cut "
                "inside a character?), so they were read as utf-8 with U+FFFD in their place")
    else:
        note = (f"{complaint}; the bytes read as {decoded.encoding}, so they were read so: set "
                f"'encoding: {decoded.encoding}' on the source to say it")
    return ParsedFeed(again.kind, again.title, again.entries,
                      f"{again.problem}; {note}" if again.problem else note, decoded.encoding,
                      again.skipped)


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` of a sitemap; ``title``/``published`` from ``news:news`` when present."""

    url: str
    lastmod: datetime | None
    title: str | None
    published: datetime | None


@dataclass(frozen=True)
class ParsedSitemap:
    """A ``<urlset>`` (``entries``) or a ``<sitemapindex>`` (``sitemaps``: child sitemap URLs,
    newest first when they carry lastmod)."""

    entries: tuple[SitemapEntry, ...] = ()
    sitemaps: tuple[str, ...] = ()
    problem: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _w3c_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return _parse_date(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)  # Chinese sites' local time
    return when


def _child_text(node: Any, name: str) -> str | None:
    for child in node.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return None


def parse_sitemap(body: bytes, url: str, max_bytes: int = 10_000_000) -> ParsedSitemap:
    """Parse sitemap bytes from ``url``; never raises on bad input (``problem`` says why). A
    gzipped file is inflated to at most ``max_bytes`` (the source's), never further."""
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz served as a file
        try:
            # read() with a size inflates step by step and stops there: the bound is real
            body = gzip.GzipFile(fileobj=io.BytesIO(body)).read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            return ParsedSitemap(problem=f"bad gzip: {exc}")
        if len(body) > max_bytes:
            return ParsedSitemap(problem=f"the gzipped sitemap expands past max_bytes {max_bytes}; "
                                 "raise max_bytes on the source if it really is that large")
    try:
        root = SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        return ParsedSitemap(problem=f"refused: {type(exc).__name__} (entities are not allowed)")
    except SafeET.ParseError as exc:
        return ParsedSitemap(problem=f"not well-formed XML: {exc}")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        found = []
        for node in root:
            loc = _child_text(node, "loc")
            if loc:
                found.append((_w3c_date(_child_text(node, "lastmod")), loc))
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        found.sort(key=lambda pair: pair[0] or epoch, reverse=True)
        return ParsedSitemap(sitemaps=tuple(loc for _, loc in found))
    if kind != "urlset":
        return ParsedSitemap(problem=f"root element <{kind}> is neither <urlset> nor <sitemapindex>")
    entries = []
    for node in root:
        loc = _child_text(node, "loc")
        if not loc:
            continue
        entries.append(SitemapEntry(url=loc, lastmod=_w3c_date(_child_text(node, "lastmod")),
                                    title=_child_text(node, "title"),
                                    published=_w3c_date(_child_text(node, "publication_date"))))
    return ParsedSitemap(entries=tuple(entries))
