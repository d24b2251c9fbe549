"""Main-text extraction on pages in the shape of Chinese government, news and forum sites."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crawlers.extract import Extracted, SelectorError, extract_article
from crawlers.normalize.dates import SHANGHAI
from crawlers.normalize.encoding import decode_html

PAGES = Path(__file__).parent / "fixtures" / "pages"


def extract(name: str, selectors: dict | None = None) -> Extracted:
    text, _ = decode_html((PAGES / name).read_bytes())
    return extract_article(text, f"http://fixtures.test/{name}", selectors)


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_county_article_loses_its_byline_tool_bar_and_prev_next_links():
    page = extract("gbk_county.html")
    assert page.title == "清河县通报三起违反中央八项规定精神问题"
    assert page.content.startswith("近日，清河县纪委监委通报了三起")
    assert page.content.endswith("发现一起查处一起。")
    for furniture in ("来源：", "字号", "打印", "上一篇", "下一篇", "责任编辑", "版权所有"):
        assert furniture not in page.content


def test_the_author_comes_from_the_byline_between_title_and_body():
    assert extract("gbk_county.html").author == "王喆"
    assert extract("big5_news.html").author == "林小明"
    assert extract("discuz.html").author is None


def test_paragraphs_are_separated_by_newlines():
    page = extract("gbk_county.html")
    assert len(page.content.split("\n")) == 4


def test_the_visible_time_with_minutes_wins_over_a_pubdate_meta_with_a_wrong_minute():
    assert extract("gbk_county.html").published == bj(2024, 3, 5, 9, 30)
    page = extract("pubdate_wrong.html")
    assert page.published == bj(2024, 3, 28, 16, 40)  # label and value in separate elements
    assert page.published_has_time


def test_the_title_is_the_heading_not_the_title_tag_with_the_site_name():
    assert extract("portal.html").title == "多地纪委监委集中通报群众身边不正之风问题"
    assert extract("pubdate_wrong.html").title == "市纪委监委召开一季度廉政风险防控工作推进会"


def test_a_portal_page_drops_share_bar_original_title_related_links_and_comments():
    page = extract("portal.html")
    assert page.content.startswith("五月以来")
    for noise in ("分享到", "原标题", "相关阅读", "责任编辑", "网友甲"):
        assert noise not in page.content
    assert page.published == bj(2024, 5, 6, 10, 12)


def test_a_traditional_script_page_is_extracted_in_its_own_script():
    page = extract("big5_news.html")
    assert page.title == "縣府公布採購弊案調查結果 三名官員移送檢方"
    assert page.content.startswith("縣政府今天下午公布辦公用品採購案")
    assert "圖／" not in page.content and "相關新聞" not in page.content
    assert page.published == bj(2024, 4, 12, 16, 45)


def test_a_page_that_shows_only_a_date_gives_that_day():
    page = extract("bom_gov.html")
    assert page.title == "关于开展2024年度廉洁文化进机关活动的通知"
    assert page.published == bj(2024, 4, 2)
    assert not page.published_has_time
    assert page.content.startswith("各处室、直属单位：\n为深化廉洁文化建设")
    assert "打印本页" not in page.content


def test_a_forum_thread_gives_the_first_post_and_its_date_not_the_replies_or_moderation():
    page = extract("discuz.html")
    assert page.title == "小区停车收费不合理，物业说是街道定的"
    assert page.content.startswith("我们小区从这个月起")
    assert "12345" not in page.content
    assert page.published == bj(2024, 3, 2, 9, 5, 33)


def test_a_microblog_post_takes_its_bracketed_headline_as_title_and_the_post_time():
    page = extract("weibo.html")
    assert page.title == "清河县一学校食堂被指克扣学生餐费？县教育局：已成立调查组"
    assert page.content.startswith("【清河县一学校食堂")
    assert page.published == bj(2024, 3, 8, 10, 20)
    assert "希望查清楚" not in page.content


def test_css_selectors_win_and_say_so():
    page = extract("pubdate_wrong.html", {"title": "div.tit", "body": "div.content p",
                                          "date": "meta[name=PubDate]::attr(content)"})
    assert page.method == "selectors"
    assert page.title == "市纪委监委召开一季度廉政风险防控工作推进会"
    assert page.content.split("\n")[0].startswith("3月28日")
    assert page.published == bj(2024, 3, 28, 16, 3)  # the operator asked for the meta


def test_xpath_selectors_work_too_and_a_selector_that_matches_nothing_falls_back():
    page = extract("gbk_county.html", {"body": "//div[@class='TRS_Editor']",
                                       "author": "//nothing-here"})
    assert page.method == "selectors"
    assert page.content.startswith("近日，")
    assert extract("gbk_county.html", {"body": "div.no-such-block"}).method != "selectors"


def test_a_selector_that_does_not_compile_names_the_page_and_the_field():
    with pytest.raises(SelectorError, match=r"fixtures.test/portal.html: body: 'div\[\[' does not compile"):
        extract("portal.html", {"body": "div[["})


def test_content_after_a_stray_closing_html_tag_is_still_found():
    html = ("<html><head><title>关于加强基层监督的通知_某县人民政府</title></head><body>"
            "<div>首页 | 通知公告</div></body></html>"
            "<div class='content'><h1>关于加强基层监督的通知</h1><div class='article-content'>"
            "<p>各乡镇：为加强基层监督，现就有关事项通知如下，请认真贯彻落实。</p>"
            "<p>一、建立问题线索台账，每月报送一次。</p></div></div>")
    page = extract_article(html, "http://fixtures.test/stray")
    assert page.title == "关于加强基层监督的通知"
    assert page.content.startswith("各乡镇：")


def test_an_empty_or_junk_page_gives_empty_fields_not_an_error():
    for html in ("", "<html></html>", "not html at all", "<?xml version='1.0'?><a>"):
        page = extract_article(html, "http://fixtures.test/junk")
        assert isinstance(page, Extracted)
        assert page.published is None


@pytest.mark.parametrize("written", ["Tue Mar 05 10:20:00 CST 2024", "Tue, 05 Mar 2024 10:20:00 CST"])
@pytest.mark.parametrize("where", ["visible", "meta"])
def test_a_page_reads_cst_as_china_standard_time_as_its_feed_does(written, where):
    from crawlers.feeds import parse_feed
    label = f'<div class="info">发布时间：{written}　来源：县纪委监委</div>' if where == "visible" else ""
    meta = f'<meta property="article:published_time" content="{written}">' if where == "meta" else ""
    html = ('<html><head><meta charset="utf-8">' + meta + "<title>县纪委监委召开警示教育大会_清河县人民政府"
            "</title></head><body><h1>县纪委监委召开警示教育大会</h1>" + label +
            '<div class="article-content"><p>3月5日上午，县纪委监委召开全县警示教育大会，通报近期查处的'
            "违反中央八项规定精神典型案例。</p><p>会议要求，全县党员干部要以案为鉴、以案促改。</p></div>"
            "</body></html>")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><item>'
            "<title>县纪委监委召开警示教育大会</title><link>http://yuqing.test/a.html</link>"
            f"<pubDate>{written}</pubDate></item></channel></rss>").encode()
    (entry,) = parse_feed(feed, "http://yuqing.test/rss.xml").entries
    page = extract_article(html, "http://yuqing.test/a.html")
    assert page.published == entry.published == datetime(2024, 3, 5, 10, 20, tzinfo=SHANGHAI)
