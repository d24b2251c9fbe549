"""The publication time of a page, from its metadata and the visible text near the title.

Order of trust, and why:

1. A dated line between the title and the start of the body (发布时间：…, 来源：… 时间：…, or a bare
   date line) with a time of day. Visible text is what the editor typed; real .gov.cn pages carry a
   ``PubDate`` meta whose minute field is wrong, and news pages a meta time that is the last update.
2. Metadata (``article:published_time``, ``PubDate``, ``publishdate``, ``og:release_date``,
   ``itemprop=datePublished``, JSON-LD, ``<time datetime>``), used when the visible line has only
   a date on the same day (it adds the minutes) or when there is no visible line.
3. A labelled date after the body (发布于 … at the foot of an answer), the closest one only: the
   later dates on a page belong to comments and related links.

Update times (更新, 修改) and dates inside a sentence or in parentheses are never used.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from lxml import etree

from crawlers.normalize.dates import DATE_RE, SHANGHAI, ParsedTime, parse_published_detail

__all__ = ["find_published", "meta_published"]

_META_NAMES = (
    "article:published_time", "og:release_date", "og:article:published_time", "pubdate",
    "publishdate", "publish_date", "publishdate", "publish-date", "datepublished", "dc.date.issued",
    "dc.date", "dcterms.issued", "release_date", "ptime", "sailthru.date", "parsely-pub-date",
    "firstpublishedtime", "weibo:article:create_at", "article:published", "published_time",
)
_LABEL = re.compile(r"(发布时间|發布時間|发表时间|發表時間|发布日期|發布日期|发表于|發表於|发布于|發布於|"
                    r"发文日期|成文日期|时间|時間|日期|发布|發布|刊登|出版)\s*[:：]?\s*$")
_UPDATE = re.compile(r"更新|修改|修訂|修订|审核|審核|编辑于|編輯於|截止|截至|最后回复|最後回覆")
_PAREN_DATE = re.compile(r"[（(][^）)]{0,6}$")
_VISIBLE_MAX_LINE = 90


def meta_published(tree: etree._Element) -> ParsedTime | None:
    """The first publication time found in metas, itemprop, JSON-LD or ``<time>``."""
    for value in _meta_values(tree):
        parsed = parse_published_detail(value)
        if parsed and 1990 <= parsed.value.year <= 2100:
            return parsed
    return None


def _meta_values(tree: etree._Element):
    wanted = set(_META_NAMES)
    for el in tree.iter("meta"):
        name = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if name in wanted and el.get("content"):
            yield el.get("content")
    for el in tree.xpath("//*[@itemprop='datePublished']"):
        yield el.get("content") or el.get("datetime") or el.text_content()
    for script in tree.xpath("//script[@type='application/ld+json']"):
        yield from _jsonld_dates(script.text or "")
    for el in tree.iter("time"):
        if el.get("datetime") and not _UPDATE.search(el.get("class") or ""):
            yield el.get("datetime")
            break


def _jsonld_dates(source: str):
    try:
        data = json.loads(source)
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("datePublished"), str):
                yield item["datePublished"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _visible_dates(lines: list[str], now: datetime | None) -> list[tuple[ParsedTime, bool]]:
    """Dates in ``lines`` a reader would take as the article's, with whether they were labelled."""
    found = []
    for i, line in enumerate(lines):
        if len(line) > _VISIBLE_MAX_LINE or _UPDATE.search(line):
            continue
        for match in DATE_RE.finditer(line):
            before = line[: match.start()]
            if _PAREN_DATE.search(before):
                continue
            parsed = parse_published_detail(match.group(0), now)
            if parsed is None or not 1990 <= parsed.value.year <= 2100:
                continue
            labelled = bool(_LABEL.search(before)) or (i > 0 and bool(_LABEL.search(lines[i - 1])))
            found.append((_with_separate_time(parsed, line, match), labelled))
            break  # one date per line: a second one is usually an expiry or an update
    return found


_LONE_TIME = re.compile(r"(?<![\d:])(上午|下午|晚上|凌晨)?\s*([0-2]?\d):([0-5]\d)(?![\d:])")


def _with_separate_time(parsed: ParsedTime, line: str, match: re.Match) -> ParsedTime:
    """A date whose time of day sits apart on the same line (``15:31 2018/09/16``)."""
    if parsed.has_time:
        return parsed
    rest = line[: match.start()] + " " + line[match.end():]
    lone = _LONE_TIME.search(rest)
    if not lone or int(lone.group(2)) > 23:
        return parsed
    hour = int(lone.group(2))
    if lone.group(1) in ("下午", "晚上") and hour < 12:
        hour += 12
    value = parsed.value.replace(hour=hour, minute=int(lone.group(3)))
    return ParsedTime(value, True)


def find_published(tree: etree._Element, lines: list[str], title_at: int, body_at: int,
                   now: datetime | None = None) -> ParsedTime | None:
    """The page's publication time (see module docstring), or None when the page shows none.

    ``lines`` are the page's visible lines, ``title_at`` the index of the title line and
    ``body_at`` that of the first body line (both -1 when unknown).
    """
    # A few lines above the title too: microblogs print the time above the post that holds it.
    start = max(title_at - 3, 0)
    end = body_at + 1 if body_at >= title_at >= 0 else min(len(lines), start + 12)
    header = _visible_dates(lines[start:end], now)
    visible = next((p for p, labelled in header if labelled and p.has_time), None) \
        or next((p for p, _ in header if p.has_time), None) \
        or next((p for p, labelled in header if labelled), None) \
        or next((p for p, _ in header), None)
    meta = meta_published(tree)
    if visible is not None:
        if not visible.has_time and meta is not None and meta.has_time and \
                meta.value.astimezone(SHANGHAI).date() == visible.value.date():
            return meta
        return visible
    if meta is not None:
        return meta
    after = _visible_dates(lines[end:], now)
    return next((p for p, labelled in after if labelled), None)
