"""Publication times as Chinese sites write them, to the minute, in Beijing time unless stated.

:func:`parse_published` reads one string (``2020-01-09 07:43``, ``发表时间:2020-01-09 07:43``,
``2020年1月9日 07:43``, ``3小时前``, ``昨天 10:20``, ISO 8601, RFC 822, Unix seconds ...).
:func:`parse_published_detail` also says whether the string carried a time of day or only a date,
which is what lets the page-level finder (:mod:`crawlers.extract.dates`) prefer a visible time with
minutes over a meta tag that only has the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

from pipeline.records import SHANGHAI

__all__ = ["SHANGHAI", "ParsedTime", "after_fetch", "parse_published", "parse_published_detail", "to_shanghai", "DATE_RE",
           "date_matches"]


_TIME = (r"(?:(?P<ampm>上午|下午|晚上|凌晨|中午|早上|AM|PM|am|pm)\s*)?"
         r"(?P<H>[0-2]?\d)[:：时](?P<M>[0-5]\d)(?:[:：分](?P<S>[0-5]\d))?秒?"
         r"(?:\s*(?P<ampm2>AM|PM|am|pm))?")
# Year-month-day with -, /, . or 年月日; the year may have two digits (微博: 24-5-13 17:07).
DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2}|(?<![\d.])\d{2})\s*(?P<sep>[-/.年])\s*(?P<m>1[0-2]|0?[1-9])\s*[-/.月]\s*"
    r"(?P<d>3[01]|[12]\d|0?[1-9])(?![\d])\s*日?"
    r"(?:\s*(?:[T ,，]|星期.|周.|週.|禮拜.|礼拜.)?\s*" + _TIME + r")?"
)
# English months, as forum software left in its default locale and English-language pages print
# them: "Dec 28 Sat 2013 00:28", "Sat Dec 28, 2013 12:28 am", "28 December 2013", "Dec. 28, 2013".
_MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), 1) for name in names}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_WEEKDAY = r"(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)[a-z]*\.?,?"
_EN_TIME = r"(?:,?\s*(?:at\s+)?" + _TIME + r")?"
EN_MONTH_FIRST = re.compile(
    r"(?<![a-z])(?:" + _WEEKDAY + r"\s+)?" + _MONTH + r"\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
    r"(?!\d),?\s+(?:" + _WEEKDAY + r"\s+)?(?P<y>(?:19|20)\d{2})(?!\d)" + _EN_TIME, re.I)
EN_DAY_FIRST = re.compile(
    r"(?<![\d:])(?:" + _WEEKDAY + r"\s+)?(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s+" + _MONTH
    + r"\.?,?\s+(?P<y>(?:19|20)\d{2})(?!\d)" + _EN_TIME, re.I)
# Java's Date.toString and C's asctime: "Tue Mar 05 10:20:00 CST 2024", the year after the clock
# (and the zone, when there is one, between them).
JAVA_DATE = re.compile(
    r"(?<![a-z])(?:" + _WEEKDAY + r"\s+)?" + _MONTH + r"\s+(?P<d>3[01]|[12]\d|0?[1-9])\s+"
    r"(?P<clock>[0-2]?\d:[0-5]\d(?::[0-5]\d)?)\s+(?:(?P<zone>[A-Z]{2,5}(?:[+-]\d\d?(?::?\d\d)?)?"
    r"|[+-]\d{4})\s+)?(?P<y>(?:19|20)\d{2})(?!\d)", re.I)
# "CST" after a clock. To Python's email.utils (and feedparser) it is US Central time, -06:00; on
# Chinese sites (Java's default Date.toString on a server set to Asia/Shanghai, and the CMSs built
# on it) it is China Standard Time, +08:00, and nothing this system reads means the other.
_CHINA_CST = re.compile(r"(?<=\d)(\s*)CST(?![A-Za-z])")
_LATIN = re.compile(r"[A-Za-z]{3}")  # no month name without three letters in a row
_ISO_ZONE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)$")
_RELATIVE = re.compile(r"(?P<n>\d+)\s*(?P<unit>秒|分钟|分鐘|小时|小時|天|日|周|週)前")
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天|今日|昨日)\s*(?:" + _TIME + r")?")
_MONTH_DAY = re.compile(r"(?<!\d)(?P<m>1[0-2]|0?[1-9])\s*[-月]\s*(?P<d>3[01]|[12]\d|0?[1-9])日?\s+" + _TIME)
_UNIX = re.compile(r"^\d{10}(?:\d{3})?$")


@dataclass(frozen=True)
class ParsedTime:
    """A parsed publication time: ``value`` is tz-aware; ``has_time`` is false for a date only."""

    value: datetime
    has_time: bool


#: a publication time later than the fetch by more than this is a CMS's placeholder or typo
#: (2099-12-31, a year typed wrong), not news from the future: the article is kept without it
FUTURE_SLACK = timedelta(days=1)


def after_fetch(published: datetime | None, fetched: datetime) -> str | None:
    """What is wrong with ``published`` when it is implausibly later than the fetch (see
    :data:`FUTURE_SLACK`), for the warning of the article kept without it; None when it is not."""
    if published is None or published <= fetched + FUTURE_SLACK:
        return None
    return f"{to_shanghai(published).isoformat()} is after the fetch; kept without a date"


def parse_published(raw: str, now: datetime | None = None, tz: tzinfo = SHANGHAI) -> datetime | None:
    """The moment ``raw`` names, tz-aware (``tz`` unless the string has a zone), or None.

    A date without a time of day is midnight of that day. Relative forms (``3小时前``, ``昨天``)
    are taken from ``now`` (default: the current time). Never raises on odd input.
    """
    parsed = parse_published_detail(raw, now, tz)
    return parsed.value if parsed else None


def parse_published_detail(raw: str, now: datetime | None = None,
                           tz: tzinfo = SHANGHAI) -> ParsedTime | None:
    """Like :func:`parse_published`, with whether a time of day was given."""
    if not raw or not isinstance(raw, str):
        return None
    text = raw.strip().replace("\u00a0", " ").replace("&#x2B;", "+")
    if len(text) > 400:
        text = text[:400]
    now = (now or datetime.now(tz)).astimezone(tz) if (now is None or now.tzinfo) else now.replace(tzinfo=tz)
    text = _CHINA_CST.sub(r"\1+0800", text)
    for reader in (_read_unix, _read_iso, _read_rfc822, _read_java):
        result = reader(text, tz)
        if result:
            return result
    if "刚刚" in text or "剛剛" in text:
        return ParsedTime(now.replace(second=0, microsecond=0), True)
    return _read_relative(text, now) or _read_absolute(text, now, tz) or _read_english(text, tz)


def date_matches(text: str) -> list[re.Match]:
    """Every absolute date in ``text`` (numeric or with an English month), in order, not
    overlapping; each match is readable by :func:`parse_published_detail`."""
    patterns = (DATE_RE, JAVA_DATE, EN_MONTH_FIRST, EN_DAY_FIRST) if _LATIN.search(text) \
        else (DATE_RE,)
    found = sorted((m for pattern in patterns for m in pattern.finditer(text)),
                   key=lambda m: (m.start(), -m.end()))
    kept: list[re.Match] = []
    for match in found:
        if not kept or match.start() >= kept[-1].end():
            kept.append(match)
    return kept


def _read_english(text: str, tz: tzinfo) -> ParsedTime | None:
    for pattern in (EN_MONTH_FIRST, EN_DAY_FIRST):
        match = pattern.search(text)
        if match:
            try:
                day = date(int(match["y"]), _MONTHS[match["mon"].lower()], int(match["d"]))
            except ValueError:
                return None
            return _combine(day, match, tz)
    return None


def _read_unix(text: str, tz: tzinfo) -> ParsedTime | None:
    if not _UNIX.match(text):
        return None
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    moment = datetime.fromtimestamp(seconds, tz)
    return ParsedTime(moment, True) if 1990 <= moment.year <= 2100 else None


def _read_iso(text: str, tz: tzinfo) -> ParsedTime | None:
    candidate = text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", text) else text
    if not _ISO_ZONE.match(candidate):
        return None
    try:
        moment = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ParsedTime(moment, True)


def _read_rfc822(text: str, tz: tzinfo) -> ParsedTime | None:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", text):
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return ParsedTime(moment if moment.tzinfo else moment.replace(tzinfo=tz), True)


def _read_java(text: str, tz: tzinfo) -> ParsedTime | None:
    match = JAVA_DATE.search(text) if _LATIN.search(text) else None
    if not match:
        return None
    # the same fields in RFC 822's order, for the one reader of zones
    return _read_rfc822(f"{match['d']} {match['mon'][:3]} {match['y']} {match['clock']} "
                        f"{match['zone'] or ''}".strip(), tz)


def _read_relative(text: str, now: datetime) -> ParsedTime | None:
    match = _RELATIVE.search(text)
    if match:
        n = int(match["n"])
        unit = match["unit"]
        seconds = {"秒": 1, "分钟": 60, "分鐘": 60, "小时": 3600, "小時": 3600, "天": 86400,
                   "日": 86400, "周": 604800, "週": 604800}[unit]
        try:
            moment = (now - timedelta(seconds=n * seconds)).replace(second=0, microsecond=0)
        except (OverflowError, ValueError):  # "99999999999天前": before the calendar begins
            return None
        # "3天前" names a day, not a minute.
        return ParsedTime(moment, unit not in ("天", "日", "周", "週"))
    match = _DAY_WORD.search(text)
    if match:
        back = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}[match["word"]]
        day = (now - timedelta(days=back)).date()
        return _combine(day, match, now.tzinfo)
    match = _MONTH_DAY.search(text)  # "05-13 17:07" on forums: this year, or last if in the future
    if match and not DATE_RE.search(text):
        try:
            day = date(now.year, int(match["m"]), int(match["d"]))
        except ValueError:
            return None
        if day > now.date():
            try:
                day = day.replace(year=now.year - 1)
            except ValueError:  # 02-29 ahead of a leap year's today: last year had none
                return None
        return _combine(day, match, now.tzinfo)
    return None


def _read_absolute(text: str, now: datetime, tz: tzinfo) -> ParsedTime | None:
    match = DATE_RE.search(text)
    if not match:
        return None
    year = int(match["y"])
    if year < 100:
        if match["sep"] == "年" or match["sep"] == ".":
            return None  # "105年" is the ROC calendar, "12.5.3" a version number: not ours to guess
        year += 2000
        if year > now.year + 1:
            return None
    try:
        day = date(year, int(match["m"]), int(match["d"]))
    except ValueError:
        return None
    return _combine(day, match, tz)


def _combine(day: date, match: re.Match, tz: tzinfo | None) -> ParsedTime | None:
    hour_text = match.groupdict().get("H")
    if hour_text is None:
        return ParsedTime(datetime(day.year, day.month, day.day, tzinfo=tz or SHANGHAI), False)
    hour, minute = int(hour_text), int(match["M"])
    second = int(match["S"] or 0)
    ampm = (match.groupdict().get("ampm") or match.groupdict().get("ampm2") or "").lower()
    if ampm in ("下午", "晚上", "pm") and hour < 12:
        hour += 12
    elif ampm in ("上午", "凌晨", "早上", "am") and hour == 12:
        hour = 0
    elif ampm == "中午" and hour < 11:
        hour += 12
    if hour > 23:
        return None
    return ParsedTime(datetime(day.year, day.month, day.day, hour, minute, second,
                               tzinfo=tz or SHANGHAI), True)


def to_shanghai(moment: datetime) -> datetime:
    """``moment`` seen on a Beijing clock (for display and comparison with page text)."""
    return moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)

