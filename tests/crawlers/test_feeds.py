"""Feed and sitemap parsing on the fixture files (tests/crawlers/fixtures/feeds, written here)."""

from __future__ import annotations

import resource
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawlers.feeds import html_to_text, parse_feed, parse_sitemap

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def feed(name: str):
    return parse_feed((FEEDS / name).read_bytes(), f"http://yuqing.test/feeds/{name}")


@pytest.mark.parametrize("name,kind,count", [("rss20.xml", "rss20", 3), ("atom.xml", "atom10", 2),
                                             ("rss10.rdf", "rss10", 2)])
def test_the_three_feed_formats(name, kind, count):
    parsed = feed(name)
    assert (parsed.kind, len(parsed.entries), parsed.problem) == (kind, count, None)
    assert all(e.title and e.content and e.published and e.link.startswith("http://yuqing.test/")
               for e in parsed.entries)


def test_rss20_fields_are_plain_text_with_zone_aware_dates():
    first = feed("rss20.xml").entries[0]
    assert first.title == "示范县纪委监委召开2026年第一季度案件质量评查会"
    assert first.content.splitlines() == [
        "3月5日上午，示范县纪委监委召开第一季度案件质量评查会，逐卷评查本季度办结的审查调查案件。",
        "会议要求各审查调查室对照问题清单逐项整改。"]
    assert first.published == datetime(2026, 3, 5, 10, 20, tzinfo=SHANGHAI)
    assert first.author == "县纪委监委宣传部"
    assert first.entry_id == "http://yuqing.test/gzdt/202603/t20260305_1.html"


def test_atom_uses_published_else_updated_and_html_content():
    first, second = feed("atom.xml").entries
    assert first.published == datetime(2026, 3, 5, 11, 30, tzinfo=SHANGHAI)
    assert second.published == datetime(2026, 3, 3, 8, 10, tzinfo=SHANGHAI)
    assert first.content.startswith("某市纪委监委日前通报") and "<p>" not in first.content
    assert first.entry_id == "tag:yuqing.test,2026:lianzheng/8812"


def test_items_sharing_one_link_are_told_apart_by_their_guid():
    entries = feed("same_link.xml").entries
    assert {e.link for e in entries} == {"http://yuqing.test/wz/index.html"}
    assert [e.entry_id for e in entries] == ["wz-20260305-0017", "wz-20260305-0016",
                                            "wz-20260304-0031"]


def test_a_local_date_without_zone_is_beijing_time():
    (entry,) = feed("chinese_dates.xml").entries
    assert entry.published == datetime(2026, 3, 5, 10, 20, tzinfo=SHANGHAI)
    assert entry.published_raw == "2026-03-05 10:20"


def test_a_malformed_feed_still_yields_its_entries_with_a_problem():
    parsed = feed("malformed.xml")
    assert parsed.problem and "not well-formed" in parsed.problem
    assert [e.title for e in parsed.entries] == ["县委召开全面从严治党工作会议", "县纪委监委开展廉政谈话"]
    assert "& 作风建设" in parsed.entries[0].content


def test_garbage_is_not_a_feed_and_does_not_raise():
    parsed = parse_feed(b"<html><body>404</body></html>", "http://yuqing.test/x")
    assert parsed.entries == () and parsed.problem


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_entity_expansion_does_not_blow_up_memory():
    before = _peak_kb()
    parsed = feed("entity_bomb.xml")
    sitemap = parse_sitemap((FEEDS / "sitemap_bomb.xml").read_bytes(), "http://yuqing.test/s.xml")
    # 16**7 * 62 bytes would be ~16 GB expanded; nothing near that is ever allocated
    assert _peak_kb() - before < 200_000
    assert all(len(e.title) < 100 for e in parsed.entries)
    assert sitemap.entries == () and "entities are not allowed" in sitemap.problem


def test_a_news_sitemap():
    parsed = parse_sitemap((FEEDS / "sitemap_news.xml").read_bytes(), "http://yuqing.test/s.xml")
    first, second = parsed.entries
    assert first.url == "http://yuqing.test/sites/t20260305_1.html"
    assert first.title == "示范县某局原局长接受纪律审查和监察调查"
    assert first.published == datetime(2026, 3, 5, 10, 20, tzinfo=SHANGHAI)
    assert second.published is None and second.lastmod == datetime(2026, 3, 4, 8, 5, tzinfo=timezone.utc)


def test_a_sitemap_index_lists_the_newest_sitemap_first():
    parsed = parse_sitemap((FEEDS / "sitemap_index.xml").read_bytes(), "http://yuqing.test/s.xml")
    assert parsed.sitemaps == ("http://yuqing.test/feeds/sitemap_news.xml",
                               "http://yuqing.test/feeds/sitemap_old.xml")


def test_html_to_text():
    assert html_to_text("<p>一&amp;二</p><p>三<br/>四</p>") == "一&二\n三\n四"
    assert html_to_text("plain") == "plain"


def test_eval_feeds_scores_every_check(tmp_path, capsys):
    from yuqing.cli.main import main

    assert main(["eval", "feeds", str(FEEDS)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("overall: items 100%, title 100%, link 100%, published 100% over 6 feeds")
    # a wrong expectation is reported with what was found, and the exit code says so
    wrong = (FEEDS / "expected.jsonl").read_text(encoding="utf-8").replace('"items": 3', '"items": 4', 1)
    (tmp_path / "expected.jsonl").write_text(wrong, encoding="utf-8")
    for name in ("rss20.xml", "atom.xml", "rss10.rdf", "same_link.xml", "malformed.xml",
                 "chinese_dates.xml"):
        (tmp_path / name).write_bytes((FEEDS / name).read_bytes())
    assert main(["eval", "feeds", str(tmp_path)]) == 1
    assert "rss20.xml    WRONG" in capsys.readouterr().out


def test_an_item_with_a_placeholder_date_is_kept_without_a_date_and_says_why():
    parsed = feed("odd_items.xml")
    notice = next(e for e in parsed.entries if e.link.endswith("/notice.html"))
    assert notice.published is None and notice.published_raw == "0000-00-00 00:00:00"
    assert notice.problem and "'0000-00-00 00:00:00'" in notice.problem
    assert [e.title for e in parsed.entries][0] == "关于城关镇老旧小区改造进度的咨询"
    assert parsed.entries[0].problem is None


def test_an_emoji_written_as_two_utf16_halves_becomes_the_emoji():
    parsed = feed("odd_items.xml")
    (item,) = [e for e in parsed.entries if e.link.endswith("_42.html")]
    assert item.title == "网友爆料：村干部优亲厚友\U0001F620"
    # the hex pair inside CDATA is joined too; the lone half after it names no character
    assert item.content == "某村低保名额给了村干部亲属\U0001F621，群众意见很大。"
    assert len(parsed.entries) == 3 and parsed.skipped == ()


@pytest.mark.parametrize("reference", ["&#55357;", "&#xDE20;", "&#1114112;", "&#" + "9" * 5000 + ";"])
def test_a_reference_to_no_character_is_dropped_and_never_raises(reference):
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>留言{reference}回复</title><link>http://yuqing.test/a/1.html</link>"
            "</item></channel></rss>").encode()
    (item,) = parse_feed(body, "http://yuqing.test/rss.xml").entries
    assert item.title == "留言回复"


def test_cst_in_a_chinese_feed_is_china_standard_time_in_both_forms_it_comes_in():
    # RFC 822 with CST, and Java's Date.toString as CMSs on Java print it
    parsed = feed("cst_dates.xml")
    assert [e.published for e in parsed.entries] == [datetime(2024, 3, 5, 10, 20, tzinfo=SHANGHAI)] * 2
