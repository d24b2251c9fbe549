"""The publication time of a page, from its metadata and the visible text near the title.

Order of trust, and why:

1. A dated line between the title and the start of the body (发布时间：…, 来源：… 时间：…, a bare
   date line, a long information bar, or a date badge whose day, month and time sit in separate
   elements) with a time of day. Visible text is what the editor typed; real .gov.cn pages carry a
   ``PubDate`` meta whose minute field is wrong, news pages a meta or JSON-LD time that is the
   last update or the CMS's day slot. A date labelled as the *document's* (成文日期, 印发日期,
   生效日期 ...) counts only when the page has no other: a notice is signed days before it is
   published. Government pages print that attribute table above the title, so publication labels
   are also looked for a little above it. A date in the few lines right above the title (a
   microblog's time above its post) counts only when none lies between title and text: on a
   portal those lines are the end of a sidebar list of other articles (最新发布 … 16:45).
2. The first post's time of a forum thread printed after its text, beside 楼主 / 1楼.
3. Metadata (``article:published_time``, ``PubDate``, ``publishdate``, ``og:release_date``,
   ``itemprop=datePublished``, JSON-LD, ``<time datetime>``), used when the visible line has only
   a date on the same day (it adds the minutes) or when there is no visible line; a labelled
   time after the body on the meta's day still wins over the meta's minutes.
4. A labelled date after the body (发布于 … at the foot of an answer), the closest one only: the
   later dates on a page belong to comments and related links.

Update times (更新, 修改), "today is" widgets, and dates inside a sentence or in parentheses are
never used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from crawlers.normalize.dates import SHANGHAI, ParsedTime, date_matches, parse_published_detail

__all__ = ["find_published", "meta_published", "visible_dates", "VisibleDate"]

_META_NAMES = (
    "article:published_time", "og:release_date", "og:article:published_time", "pubdate",
    "publishdate", "publish_date", "publishdate", "publish-date", "datepublished", "dc.date.issued",
    "dc.date", "dcterms.issued", "release_date", "ptime", "sailthru.date", "parsely-pub-date",
    "firstpublishedtime", "weibo:article:create_at", "article:published", "published_time",
)
_PUBLISH_WORDS = (r"发布时间|發布時間|发表时间|發表時間|发布日期|發布日期|发表于|發表於|发布于|發布於|"
                  r"发帖时间|發帖時間|刊发时间|刊發時間|上传时间|上傳時間|时间|時間|日期|发布|發布|发表|"
                  r"發表|刊登|出版|留言时间|留言時間|留言日期|提问时间|提問時間|来信时间|來信時間|提交时间|"
                  r"诉求时间|posted(?: on)?|published(?: on)?|date|楼主|樓主")
# The document's own dates on government notices: when it was signed or takes effect.
_DOCUMENT_WORDS = (r"成文日期|成文时间|成文時間|印发日期|印發日期|签发日期|簽發日期|发文日期|發文日期|"
                   r"生效日期|施行日期|实施日期|實施日期|废止日期|有效期")
_LABEL = re.compile(r"(?:" + _DOCUMENT_WORDS + "|" + _PUBLISH_WORDS + r")\s*[:：]?\s*$", re.I)
_DOCUMENT = re.compile(r"(?:" + _DOCUMENT_WORDS + r")\s*[:：]?\s*$")
_UPDATE = re.compile(r"更新|修改|修訂|修订|审核|審核|编辑于|編輯於|截止|截至|最后回复|最後回覆|"
                     r"最后编辑|最後編輯|updated|今天是|今日是|当前日期|當前日期|当前时间|现在是|注册时间|"
                     r"註冊時間|加入时间|加入時間|回复时间|答复时间|回覆時間|答覆時間|回复日期|答复日期|"
                     r"办结时间|辦結時間|受理时间|受理時間", re.I)
_PAREN_DATE = re.compile(r"[（(][^）)]{0,6}$")
_STAMP = re.compile(r"\s*[）)]")  # the parentheses hold the date alone: "(2023-08-14 20:05:31)"
_SENTENCE = re.compile(r"[。！？!?]")
_VISIBLE_MAX_LINE = 90
_ANY_MAX_LINE = 300
_ABOVE_TITLE = 15
_FOOT = 4
_INFO_BAR = re.compile(r"来源|來源|作者|编辑|編輯|责任编辑|責任編輯|记者|記者|发布|發布")
_FIRST_FLOOR = re.compile(r"楼主|樓主|(?<![\d#])1\s*[楼樓](?![号號])|(?<![\w#])#\s*1(?![\d#])")


@dataclass(frozen=True)
class VisibleDate:
    """A date a reader sees: ``label`` is ``publish`` (发布时间 ...), ``document`` (成文日期 ...)
    or ``""``; ``line`` is its index in the lines it was read from."""

    parsed: ParsedTime
    label: str
    line: int


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


def visible_dates(lines: list[str], now: datetime | None = None, start: int = 0,
                  end: int | None = None) -> list[VisibleDate]:
    """Dates a reader would take as an article's in ``lines[start:end]``, one per line, in order.

    A line longer than a short date line counts only when it is not a sentence (an information
    bar) or the date carries a label; a date in parentheses or inside an update line never does.
    A label may sit at the end of the line before (label and value in separate cells). Dates
    split over neighbouring short lines (``21`` / ``2024年02月`` / ``10:35``) are joined.
    """
    end = len(lines) if end is None else min(end, len(lines))
    found = []
    for i in range(max(start, 0), end):
        line = lines[i]
        if len(line) > _ANY_MAX_LINE:
            continue
        previous = lines[i - 1] if i > 0 and len(lines[i - 1]) <= 20 else ""
        if _UPDATE.search(previous):
            previous = ""
        since = 0  # where the text that labels the next date starts
        for match in date_matches(line):
            before = line[: match.start()]
            own, since = line[since: match.start()], match.end()
            if _UPDATE.search(own) or (not own.strip() and _UPDATE.search(previous)):
                continue  # 更新时间：… on the same line as 发布时间：… is not the publication
            if _PAREN_DATE.search(before) and not _STAMP.match(line[match.end():]):
                continue  # "(2007年8月29日…会议通过)": a date in an aside, not a stamp
            parsed = parse_published_detail(match.group(0), now)
            if parsed is None or not 1990 <= parsed.value.year <= 2100:
                continue
            label = _label(before) or (_label(previous) if not before.strip() else "")
            if len(line) > _VISIBLE_MAX_LINE and not label and _SENTENCE.search(line):
                break  # a date inside a paragraph of text
            found.append(VisibleDate(_with_separate_time(parsed, line, match), label, i))
            break  # one date per line: a second one is usually an expiry or an update
        else:
            joined = _split_date(lines, i, now)
            if joined is not None:
                found.append(VisibleDate(joined, _label(previous), i))
    return found


def _label(before: str) -> str:
    if not _LABEL.search(before[-24:]):
        return ""
    return "document" if _DOCUMENT.search(before[-24:]) else "publish"


# Pieces of a date badge, each alone in its element.
_DAY_PIECE = re.compile(r"^(3[01]|[12]\d|0?[1-9])\s*日?$")
_YEAR_MONTH_PIECE = re.compile(r"^((?:19|20)\d{2})\s*[-/.年]\s*(1[0-2]|0?[1-9])\s*月?$")
_MONTH_DAY_PIECE = re.compile(r"^(1[0-2]|0?[1-9])\s*[-/.月]\s*(3[01]|[12]\d|0?[1-9])\s*日?$")
_YEAR_PIECE = re.compile(r"^((?:19|20)\d{2})\s*年?$")
_TIME_PIECE = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)(?::[0-5]\d)?$")


def _split_date(lines: list[str], i: int, now: datetime | None) -> ParsedTime | None:
    """A date whose day, year-month (or year, month-day) and time are separate short lines,
    starting at line ``i``, in any order."""
    if not (_DAY_PIECE.match(lines[i]) or _YEAR_MONTH_PIECE.match(lines[i])
            or _YEAR_PIECE.match(lines[i]) or _MONTH_DAY_PIECE.match(lines[i])):
        return None
    year = month = day = None
    clock = ""
    for piece in lines[i:i + 3]:
        if (m := _YEAR_MONTH_PIECE.match(piece)) and year is None:
            year, month = m.group(1), m.group(2)
        elif (m := _MONTH_DAY_PIECE.match(piece)) and month is None:
            month, day = m.group(1), m.group(2)
        elif (m := _YEAR_PIECE.match(piece)) and year is None:
            year = m.group(1)
        elif (m := _DAY_PIECE.match(piece)) and day is None:
            day = m.group(1)
        elif _TIME_PIECE.match(piece) and not clock:
            clock = piece
        else:
            break
    if not (year and month and day):
        return None
    return parse_published_detail(f"{year}-{month}-{day} {clock}".strip(), now)


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


def _pick(dates: list[VisibleDate]) -> ParsedTime | None:
    """Labelled with a time of day, any with a time, labelled, any: the first of these."""
    for wanted in (lambda d: d.label and d.parsed.has_time, lambda d: d.parsed.has_time,
                   lambda d: d.label, lambda d: True):
        chosen = next((d.parsed for d in dates if wanted(d)), None)
        if chosen is not None:
            return chosen
    return None


def find_published(tree: etree._Element, lines: list[str], title_at: int, body_at: int,
                   now: datetime | None = None, body_end: int = -1) -> ParsedTime | None:
    """The page's publication time (see module docstring), or None when the page shows none.

    ``lines`` are the page's visible lines, ``title_at`` the index of the title line,
    ``body_at`` that of the first body line and ``body_end`` that of the last (-1 when unknown).
    """
    # A few lines above the title count only when nothing lies between title and text:
    # microblogs print the time above the post that holds it, but on a government page those
    # lines end a sidebar list (最新发布 2024-03-07 16:45) of other articles' dates.
    top = max(title_at, 0)
    start = max(title_at - 3, 0)
    end = body_at + 1 if body_at >= title_at >= 0 else min(len(lines), start + 12)
    between = visible_dates(lines, now, top, end)
    lead = visible_dates(lines, now, start, top)
    above = visible_dates(lines, now, start - _ABOVE_TITLE, start) if title_at > 0 else []
    visible = (_pick([d for d in between if d.label != "document"])
               or _pick([d for d in lead if d.label != "document"])
               or _pick([d for d in above if d.label == "publish"])
               or _pick([d for d in between + lead + above if d.label == "document"]))
    meta = meta_published(tree)
    if visible is not None:
        if not visible.has_time and meta is not None and meta.has_time and \
                _day(meta) == visible.value.date():
            return meta
        return visible
    floor = _first_floor(lines, end, now)
    if floor is not None and (meta is None or _day(meta) == floor.value.date()):
        return floor
    after = [d for d in visible_dates(lines, now, end) if d.label == "publish"]
    if body_end >= end:  # an information bar printed right under the text (来源 … 时间 …)
        foot = [d for d in visible_dates(lines, now, body_end + 1, body_end + 1 + _FOOT)
                if d.label == "publish" or _INFO_BAR.search(lines[d.line])]
        after = foot[:1] + after
    if meta is not None:
        # the meta's day confirmed by a labelled time on the page: the page's minutes are right
        same = next((d.parsed for d in after[:1] if d.parsed.has_time
                     and d.parsed.value.date() == _day(meta)), None)
        return same or meta
    return after[0].parsed if after else None


def _day(parsed: ParsedTime):
    return parsed.value.astimezone(SHANGHAI).date()


def _first_floor(lines: list[str], start: int, now: datetime | None) -> ParsedTime | None:
    """The time printed beside 楼主 / 1楼 after the first post of a thread."""
    for i in range(start, min(len(lines), start + 40)):
        if len(lines[i]) <= 120 and _FIRST_FLOOR.search(lines[i]):
            near = visible_dates(lines, now, i, i + 2)
            if near:
                return near[0].parsed
    return None
