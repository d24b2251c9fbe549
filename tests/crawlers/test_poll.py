"""One round of one source against the fixture server: what is new, what is not, what it reads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from crawlers.base import FetchError
from crawlers.poll import PollSource
from crawlers.state import StateStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 5, 4, 0, tzinfo=timezone.utc)
SELECTORS = {"title": "h1.title", "body": "div.TRS_Editor", "date": "div.info"}


def publish(result, state: StateStore) -> list[str]:
    """What the service does after publishing and flushing: mark the entries seen."""
    state.mark_seen(result.source_id, [c.entry_id for c in result.candidates], NOW)
    state.record_success(result.source_id, NOW, status=result.status,
                         new_items=len(result.candidates), validators=result.validators)
    return [c.article.title for c in result.candidates]


def test_entries_seen_once_are_not_published_again_even_after_a_restart(
        fixture_server, fetcher, make_source, tmp_path):
    source = make_source("/feeds/rss20.xml")
    state = StateStore(tmp_path / "state.sqlite3")
    first = PollSource(fetcher, state).run(source, NOW)
    assert first.status == "ok" and len(publish(first, state)) == 3
    assert first.candidates[0].article.source_id == "fixture"
    state.close()
    restarted = StateStore(tmp_path / "state.sqlite3")
    again = PollSource(fetcher, restarted).run(source, NOW)
    # same bytes as last time: recognised by the content hash, nothing parsed
    assert (again.status, again.candidates) == ("unchanged", [])
    restarted.close()


def test_a_feed_answering_304_is_not_parsed(fixture_server, fetcher, make_source, crawl_state):
    fixture_server.route("/feed", body=(fixture_server.root / "feeds" / "atom.xml").read_bytes(),
                         etag='"a1"')
    source = make_source("/feed")
    publish(PollSource(fetcher, crawl_state).run(source, NOW), crawl_state)
    again = PollSource(fetcher, crawl_state).run(source, NOW)
    assert again.status == "not_modified" and fixture_server.requests[-1][1]["if-none-match"] == '"a1"'


def test_a_changed_feed_with_the_same_etag_is_still_read(fixture_server, fetcher, make_source,
                                                         crawl_state):
    rss = (fixture_server.root / "feeds" / "rss20.xml").read_text(encoding="utf-8")
    route = fixture_server.route("/feed", body=rss, headers={"ETag": '"same"'})
    source = make_source("/feed")
    assert len(publish(PollSource(fetcher, crawl_state).run(source, NOW), crawl_state)) == 3
    newer = rss.replace("<item>", """<item>
    <title>示范县纪委监委通报两起形式主义官僚主义典型问题</title>
    <link>http://yuqing.test/gzdt/202603/t20260305_9.html</link>
    <guid>http://yuqing.test/gzdt/202603/t20260305_9.html</guid>
    <description>通报指出，有关单位在督查检查中层层加码，增加基层负担。</description>
    <pubDate>Thu, 05 Mar 2026 11:40:00 +0800</pubDate>
  </item>
  <item>""", 1)
    route.body = newer.encode("utf-8")
    result = PollSource(fetcher, crawl_state).run(source, NOW)
    assert result.status == "ok"
    assert publish(result, crawl_state) == ["示范县纪委监委通报两起形式主义官僚主义典型问题"]


def test_full_text_is_fetched_when_the_feed_carries_a_summary(fixture_server, fetcher, make_source):
    source = make_source("/feeds/summary_only.xml", fetch_full_text=True, extraction=SELECTORS)
    (candidate,) = PollSource(fetcher).run(source, NOW).candidates
    assert candidate.article.content.startswith("据示范县纪委监委消息")
    assert "县纪委监委将依规依纪依法对其作出处理。" in candidate.article.content
    summary = PollSource(fetcher).run(make_source("/feeds/summary_only.xml", id="s2"), NOW)
    assert summary.candidates[0].article.content == "示范县某局原局长接受审查调查……"


def test_gbk_and_big5_pages_reach_the_article_without_mojibake(fixture_server, fetcher, make_source):
    fixture_server.route("/enc/list.html", '<ul class="l"><li><a href="/sites/gbk.html">甲</a></li>'
                                           '<li><a href="/sites/big5.html">乙</a></li></ul>')
    source = make_source("/enc/list.html", type="html", extraction={"items": "ul.l li"})
    gbk, big5 = (c.article for c in PollSource(fetcher).run(source, NOW).candidates)
    assert gbk.title == "某乡镇卫生院违规发放津贴补贴问题的通报"
    assert gbk.encoding in ("gbk", "gb18030", "gb2312")
    assert "以加班费名义向职工发放补贴共计三万余元" in gbk.content
    assert gbk.published == datetime(2026, 3, 3, 11, 5, tzinfo=SHANGHAI)
    assert big5.title == "某區議員涉嫌收受利益被廉政公署起訴" and big5.script == "traditional"
    assert big5.encoding.startswith("big5") and "\ufffd" not in big5.content


@pytest.mark.parametrize("max_pages,expected", [(1, 2), (3, 4)])
def test_list_pages_are_followed_to_the_next_page_within_max_pages(
        fixture_server, fetcher, make_source, max_pages, expected):
    source = make_source("/sites/list.html", type="html", max_pages=max_pages,
                         extraction={"items": "ul.list li", **SELECTORS})
    result = PollSource(fetcher).run(source, NOW)
    assert len(result.candidates) == expected and not result.warnings
    first = result.candidates[0].article
    assert first.published == datetime(2026, 3, 5, 10, 20, tzinfo=SHANGHAI)
    assert first.url == fixture_server.url("/sites/t20260305_1.html")


def test_automatic_link_discovery_stays_on_the_site(fixture_server, fetcher, make_source):
    result = PollSource(fetcher).run(make_source("/sites/list.html", type="html"), NOW)
    assert [c.entry_id.rsplit("/", 1)[1] for c in result.candidates] == [
        "t20260305_1.html", "t20260304_2.html", "t20260302_3.html", "t20260301_4.html"]


def test_a_sitemap_index_leads_to_article_pages_and_a_dead_page_is_only_a_warning(
        fixture_server, fetcher, make_source):
    source = make_source("/feeds/sitemap_index.xml", type="sitemap", extraction=SELECTORS)
    result = PollSource(fetcher).run(source, NOW)
    assert [c.article.title for c in result.candidates] == [
        "示范县某局原局长接受纪律审查和监察调查", "示范县开展群众身边不正之风和腐败问题集中整治回头看"]
    (warning,) = result.warnings
    assert warning.startswith("page_failed: fixture: ") and "t20250101_9.html: http_error" in warning


def test_a_malformed_feed_yields_what_it_can_with_a_warning_naming_source_and_url(
        fixture_server, fetcher, make_source, caplog):
    source = make_source("/feeds/malformed.xml")
    result = PollSource(fetcher).run(source, NOW)
    assert len(result.candidates) == 2
    assert f"feed_malformed: fixture: {source.url}: SAXParseException" in caplog.text


def test_a_document_that_is_no_feed_fails_the_round(fixture_server, fetcher, make_source):
    fixture_server.route("/notfeed", "<html><body>维护中</body></html>")
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(make_source("/notfeed"), NOW)
    assert caught.value.reason == "parse"


def test_a_feed_shell_with_no_entries_is_a_soft_failure_not_no_news(fixture_server, fetcher,
                                                                     make_source):
    fixture_server.route("/err.xml", '<?xml version="1.0"  encoding="utf-8" ?>\n<rss version="2.0">'
                                     "<channel><ERROR><msg>服务器临时错误</msg></ERROR></channel></rss>")
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(make_source("/err.xml"), NOW)
    assert caught.value.reason == "empty"


def test_a_sitemap_index_that_stays_the_same_still_leads_to_new_articles(
        fixture_server, fetcher, make_source, crawl_state):
    source = make_source("/feeds/sitemap_index.xml", type="sitemap", extraction=SELECTORS)
    assert len(publish(PollSource(fetcher, crawl_state).run(source, NOW), crawl_state)) == 2
    news = (fixture_server.root / "feeds" / "sitemap_news.xml").read_text(encoding="utf-8")
    fixture_server.route("/feeds/sitemap_news.xml", news.replace(
        "</urlset>", "<url><loc>http://yuqing.test/sites/t20260302_3.html</loc></url></urlset>"
    ).replace("http://yuqing.test", fixture_server.origin))
    again = PollSource(fetcher, crawl_state).run(source, NOW)
    assert publish(again, crawl_state) == ["示范县召开2026年党风廉政建设工作会议"]


def test_one_odd_item_costs_the_feed_nothing_and_is_named_in_a_warning(fixture_server, fetcher,
                                                                     make_source):
    source = make_source("/feeds/odd_items.xml")
    result = PollSource(fetcher).run(source, NOW)
    assert [c.article.title for c in result.candidates] == [
        "关于城关镇老旧小区改造进度的咨询", "置顶：留言须知", "网友爆料：村干部优亲厚友\U0001F620"]
    assert result.candidates[1].article.published is None
    (warning,) = result.warnings
    notice = fixture_server.url("/wmly/notice.html")
    assert warning.startswith(f"feed_item_odd: fixture: {source.url}: item '{notice}': "
                              "the date '0000-00-00 00:00:00'")


@pytest.mark.parametrize("dead", [{"status": 404, "body": "not found"},
                                  {"body": "<html><body>系统维护中</body></html>"}],
                         ids=["gone", "not-a-sitemap"])
def test_a_dead_child_sitemap_is_a_warning_and_the_others_are_still_read(
        fixture_server, fetcher, make_source, dead):
    fixture_server.route("/feeds/sitemap_old.xml", **dead)
    source = make_source("/feeds/sitemap_index.xml", type="sitemap", extraction=SELECTORS)
    result = PollSource(fetcher).run(source, NOW)
    assert [c.article.title for c in result.candidates] == [
        "示范县某局原局长接受纪律审查和监察调查", "示范县开展群众身边不正之风和腐败问题集中整治回头看"]
    (warning,) = result.warnings
    assert warning.startswith(f"sitemap_failed: fixture: {fixture_server.url('/feeds/sitemap_old.xml')}: ")


def test_a_sitemap_index_whose_every_child_is_dead_fails_the_round(fixture_server, fetcher,
                                                                  make_source):
    fixture_server.route("/feeds/sitemap_old.xml", "not found", status=404)
    fixture_server.route("/feeds/sitemap_news.xml", "not found", status=404)
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(make_source("/feeds/sitemap_index.xml", type="sitemap"), NOW)
    assert caught.value.reason == "http_error"
    assert caught.value.url == fixture_server.url("/feeds/sitemap_news.xml")  # the newest, read first


def test_a_dead_feed_among_a_sources_feeds_is_a_warning_and_the_others_are_still_read(
        fixture_server, fetcher, make_source):
    fixture_server.route("/feeds/moved.xml", "not found", status=404)
    source = make_source("/feeds/moved.xml", urls=[fixture_server.url("/feeds/rss20.xml")])
    result = PollSource(fetcher).run(source, NOW)
    assert len(result.candidates) == 3
    (warning,) = result.warnings
    assert warning.startswith(f"feed_failed: fixture: {source.url}: http_error: HTTP 404")


def test_a_source_whose_every_feed_fails_fails_the_round_with_the_first(fixture_server, fetcher,
                                                                        make_source):
    fixture_server.route("/feeds/moved.xml", "not found", status=404)
    fixture_server.route("/feeds/empty.xml", '<?xml version="1.0" encoding="utf-8"?>'
                         '<rss version="2.0"><channel><title>t</title></channel></rss>')
    source = make_source("/feeds/moved.xml", urls=[fixture_server.url("/feeds/empty.xml")])
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(source, NOW)
    assert (caught.value.url, caught.value.reason) == (source.url, "http_error")


def utf8_cut_inside_the_last_character(text: str) -> bytes:
    """What a CMS truncating by bytes writes: ``text`` in UTF-8 without its very last byte."""
    return text.encode("utf-8")[:-1]


def test_a_utf8_feed_with_one_summary_cut_inside_a_character_keeps_every_item_readable(
        fixture_server, fetcher, make_source):
    item = ("<item><title>{title}</title><link>http://yuqing.test/{n}.html</link>"
            "<pubDate>Tue, 05 Mar 2024 10:20:00 +0800</pubDate><description>")
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>清河县纪委监委'
            "</title>" + item.format(title="县纪委监委通报三起违反中央八项规定精神典型问题", n=1)
            + "近日，清河县纪委监委对3起问题进行了通报。</description></item>"
            + item.format(title="群众反映补贴问题", n=2)).encode("utf-8") \
        + utf8_cut_inside_the_last_character("清河镇东头村村干部违规发放补贴") \
        + b"</description></item></channel></rss>"
    fixture_server.route("/cut.xml", body, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    result = PollSource(fetcher).run(make_source("/cut.xml"), NOW)
    notice, cut = (c.article for c in result.candidates)
    assert notice.title == "县纪委监委通报三起违反中央八项规定精神典型问题"
    assert notice.content == "近日，清河县纪委监委对3起问题进行了通报。"
    assert (cut.title, cut.content) == ("群众反映补贴问题", "清河镇东头村村干部违规发放补\ufffd")
    assert any("read as utf-8 with U+FFFD" in w for w in result.warnings)


def test_a_utf8_page_with_a_character_cut_in_its_footer_is_published_as_utf8(
        fixture_server, fetcher, make_source):
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>清河镇开展河道环境整治专项行动</title>"
            "</head><body><h1 class='title'>清河镇开展河道环境整治专项行动</h1>"
            "<div class='info'>发布时间：2026-03-01 09:30</div><div class='TRS_Editor'>"
            + "<p>为进一步改善河道水环境，清河镇组织镇村干部和志愿者清理河道垃圾，整治沿岸环境。</p>" * 4
            + "</div><div class='foot'>技术支持：某某网络科技")
    fixture_server.route("/cut/list.html", '<ul class="l"><li><a href="/cut/a.html">甲</a></li></ul>')
    fixture_server.route("/cut/a.html", utf8_cut_inside_the_last_character(page) + b"</div></body></html>",
                         headers={"Content-Type": "text/html; charset=utf-8"})
    source = make_source("/cut/list.html", type="html", extraction={"items": "ul.l li", **SELECTORS})
    result = PollSource(fetcher).run(source, NOW)
    (candidate,) = result.candidates
    assert candidate.article.title == "清河镇开展河道环境整治专项行动"
    assert candidate.article.encoding == "utf-8"
    assert "清河镇组织镇村干部和志愿者清理河道垃圾" in candidate.article.content


def test_a_government_page_gets_the_date_under_its_headline_not_the_sidebar_lists(
        fixture_server, fetcher, make_source):
    fixture_server.route("/gov/list.html", '<ul class="l"><li><a href="/pages/gov_sidebar_dates.html">'
                                           "甲</a></li></ul>")
    source = make_source("/gov/list.html", type="html", extraction={"items": "ul.l li"})
    (candidate,) = PollSource(fetcher).run(source, NOW).candidates
    assert candidate.article.title == "云岭市平川镇完成农村集体“三资”清理"
    assert candidate.article.published == datetime(2024, 3, 4, tzinfo=SHANGHAI)


def test_utf8_chinese_read_as_iso_8859_2_is_refused_as_garbled_not_published(
        fixture_server, fetcher, make_source):
    # iso-8859-2 is what feedparser falls back to; here an operator's override says it
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(make_source("/feeds/rss20.xml", encoding="iso-8859-2"), NOW)
    assert caught.value.reason == "parse"
    assert "mojibake: utf-8 text decoded as iso8859-2" in caught.value.detail


def test_a_publication_time_years_after_the_fetch_is_kept_out_and_said(fixture_server, fetcher, make_source):
    # a CMS placeholder (2099-12-31) or a year typed wrong: not news from the future; such a time
    # would also open an index month decades ahead
    fixture_server.route("/feeds/future.xml", """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>某县信访局</title><link>http://yuqing.test/</link>
<item><title>关于2024年信访工作情况的通报</title><link>http://yuqing.test/xf/1.html</link>
<description>今年以来，全县共受理群众信访事项312件，办结率98.7%。</description>
<pubDate>Thu, 31 Dec 2099 00:00:00 +0800</pubDate></item>
<item><title>县信访局开展领导干部接访下访活动</title><link>http://yuqing.test/xf/2.html</link>
<description>本月，县信访局组织开展领导干部接访下访活动，现场解决群众诉求15件。</description>
<pubDate>{tomorrow}</pubDate></item>
</channel></rss>""".replace("http://yuqing.test", fixture_server.origin).replace(
        "{tomorrow}", format_datetime(NOW + timedelta(hours=20))), headers={"Content-Type": "application/rss+xml"})
    source = make_source("/feeds/future.xml")
    result = PollSource(fetcher).run(source, NOW)
    published = {c.article.title: c.article.published for c in result.candidates}
    assert published["关于2024年信访工作情况的通报"] is None
    assert published["县信访局开展领导干部接访下访活动"] == NOW + timedelta(hours=20)   # a clock a day fast is not
    (warning,) = result.warnings
    assert warning.startswith(f"published_future: fixture: {fixture_server.url('/xf/1.html')}: 2099-12-31")
