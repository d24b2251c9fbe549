"""Publication times in the forms Chinese sites write them, to the minute, in Beijing time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.normalize.dates import SHANGHAI, date_matches, parse_published, parse_published_detail

NOW = datetime(2024, 5, 20, 12, 30, tzinfo=SHANGHAI)


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("raw, expected", [
    ("2020-01-09 07:43", bj(2020, 1, 9, 7, 43)),
    ("发表时间:2020-01-09 07:43", bj(2020, 1, 9, 7, 43)),
    ("发布时间：2020-01-09 07:43  来源：清河县纪委监委", bj(2020, 1, 9, 7, 43)),
    ("2020/1/9 7:43:05", bj(2020, 1, 9, 7, 43, 5)),
    ("2020年1月9日 07:43", bj(2020, 1, 9, 7, 43)),
    ("2020年01月09日", bj(2020, 1, 9)),
    ("2019年06月15日08:18 来源：某某网", bj(2019, 6, 15, 8, 18)),
    ("发表于 2024-4-5 23:20:45", bj(2024, 4, 5, 23, 20, 45)),
    ("24-5-13 17:07", bj(2024, 5, 13, 17, 7)),
    ("2024年5月20日週一 下午2:05", bj(2024, 5, 20, 14, 5)),
    ("2024.03.08", bj(2024, 3, 8)),
    ("3小时前", bj(2024, 5, 20, 9, 30)),
    ("10分钟前", bj(2024, 5, 20, 12, 20)),
    ("昨天 10:20", bj(2024, 5, 19, 10, 20)),
    ("前天", bj(2024, 5, 18)),
    ("刚刚", bj(2024, 5, 20, 12, 30)),
    ("05-13 17:07", bj(2024, 5, 13, 17, 7)),
    ("1715850000", bj(2024, 5, 16, 17, 0)),
])
def test_chinese_forms_are_read_in_beijing_time(raw, expected):
    assert parse_published(raw, now=NOW) == expected


def test_a_string_with_a_zone_keeps_its_zone():
    moment = parse_published("2024-05-16T17:02:38+08:00")
    assert moment == bj(2024, 5, 16, 17, 2, 38)
    utc = parse_published("2024-05-20T06:05:02.000Z")
    assert utc.utcoffset() == timedelta(0)
    assert utc.astimezone(SHANGHAI) == bj(2024, 5, 20, 14, 5, 2)


def test_rfc822_dates_from_feeds_are_read_with_their_offset():
    moment = parse_published("Mon, 20 May 2024 06:05:00 +0000")
    assert moment == datetime(2024, 5, 20, 6, 5, tzinfo=timezone.utc)


def test_an_entity_encoded_plus_in_a_meta_still_parses():
    assert parse_published("2018-09-16T15:31:57&#x2B;08:00") == bj(2018, 9, 16, 15, 31, 57)


def test_every_result_is_timezone_aware():
    for raw in ("2020-01-09 07:43", "2020年01月09日", "3小时前", "昨天 10:20", "1715850000"):
        assert parse_published(raw, now=NOW).tzinfo is not None


def test_a_date_without_a_time_says_so():
    assert parse_published_detail("2020年01月09日").has_time is False
    assert parse_published_detail("2020年01月09日 08:00").has_time is True
    assert parse_published_detail("3天前", now=NOW).has_time is False


@pytest.mark.parametrize("raw", ["", "   ", "nonsense", "2020-13-45", "2020-02-30 10:00",
                                 "25:61", "105年3月19日", "v12.5.3", None, "99999999999999"])
def test_what_is_not_a_date_gives_none(raw):
    assert parse_published(raw, now=NOW) is None


def test_a_two_digit_year_in_the_future_is_not_guessed():
    assert parse_published("38-5-13 17:07", now=NOW) is None


@pytest.mark.parametrize("raw, expected, has_time", [
    ("Dec 28 Sat 2013 00:28", bj(2013, 12, 28, 0, 28), True),
    ("Sat Dec 28, 2013 12:28 am", bj(2013, 12, 28, 0, 28), True),
    ("由 东坡村民 » Sat Dec 28, 2013 9:05 pm", bj(2013, 12, 28, 21, 5), True),
    ("December 28, 2013 at 3:05 PM", bj(2013, 12, 28, 15, 5), True),
    ("Posted on March 3rd, 2024 14:05", bj(2024, 3, 3, 14, 5), True),
    ("28 Dec 2013", bj(2013, 12, 28), False),
    ("Tuesday 5 March 2024 08:30", bj(2024, 3, 5, 8, 30), True),
])
def test_english_month_names_as_forum_software_and_english_pages_print_them(raw, expected, has_time):
    parsed = parse_published_detail(raw, NOW)
    assert parsed is not None and parsed.value == expected and parsed.has_time is has_time


@pytest.mark.parametrize("raw", ["May 2013", "Mar 45, 2013", "a decade of work", "Feb 30, 2024"])
def test_english_words_that_are_no_date_give_none(raw):
    assert parse_published(raw, NOW) is None


def test_date_matches_finds_numeric_and_english_dates_in_order():
    found = [m.group(0) for m in date_matches("发布 2024-02-21 10:35，更新 Dec 28 Sat 2013 00:28")]
    assert found == ["2024-02-21 10:35", "Dec 28 Sat 2013 00:28"]


@pytest.mark.parametrize("raw", [
    "Tue, 05 Mar 2024 10:20:00 CST",        # RFC 822, as feeds and meta tags carry it
    "Tue Mar 05 10:20:00 CST 2024",         # Java's Date.toString on a server in China
    "发布时间：Tue Mar 05 10:20:00 CST 2024",
    "2024-03-05 10:20:00 CST",
    "Tue Mar 05 10:20:00 +0800 2024",
    "Tue Mar 05 10:20:00 2024",             # asctime: no zone, so Beijing time
])
def test_cst_on_chinese_sites_is_china_standard_time_not_us_central(raw):
    assert parse_published(raw, now=NOW) == bj(2024, 3, 5, 10, 20)


def test_javas_date_format_keeps_a_zone_other_than_cst():
    assert parse_published("Tue Mar 05 10:20:00 UTC 2024") == datetime(2024, 3, 5, 10, 20,
                                                                       tzinfo=timezone.utc)


def test_javas_date_format_is_found_in_a_line_of_page_text():
    (match,) = date_matches("发布时间：Tue Mar 05 10:20:00 CST 2024　来源：县纪委监委")
    assert match.group(0) == "Tue Mar 05 10:20:00 CST 2024"
