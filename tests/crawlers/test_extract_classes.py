"""The failure classes of issue 15, each on a fixture page in its shape and on small variants:
titles not in h1/h2 (T1), metadata that disagrees with the page (T2), suffixes glued onto the
headline (T3); dates (D1-D5); text lost or chrome kept in the body (B1-B5)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crawlers.extract import Extracted, extract_article
from crawlers.extract.title import clean_title
from crawlers.normalize.clean import clean_lines
from crawlers.normalize.dates import SHANGHAI
from crawlers.normalize.encoding import decode_html

PAGES = Path(__file__).parent / "fixtures" / "pages"


def extract(name: str) -> Extracted:
    text, _ = decode_html((PAGES / name).read_bytes())
    return extract_article(text, f"http://fixtures.test/{name}")


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def page(head: str, body: str) -> Extracted:
    return extract_article(f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>",
                           "http://fixtures.test/inline")


TEXT = ("<p>近日，县纪委监委对全县惠民资金发放情况开展专项检查，发现问题线索十二条，已全部移交相关部门办理。</p>"
        "<p>县纪委监委要求，各乡镇要举一反三，健全资金发放公示制度，确保惠民资金足额发放到群众手中。</p>")


# -- titles ------------------------------------------------------------------------------------

def test_t1_a_forum_subject_label_wins_over_the_site_name_in_title():
    assert extract("forum_subject.html").title == "城南菜市场占道经营没人管，晚上堵得走不了路"


def test_t1_a_headline_in_an_h5_wins_over_the_site_name_repeated_in_the_banner():
    assert extract("h5_title.html").title == "学院召开2024年党风廉政建设和反腐败工作会议"


def test_t1_a_disclosure_table_title_cell_after_its_label():
    found = page("<title>政务公开</title>",
                 "<div class='logo'>政务公开</div><table><tr><td>标　　题：</td>"
                 "<td>关于做好2024年惠民资金发放工作的通知</td></tr></table>"
                 f"<div class='zw'>{TEXT}</div>")
    assert found.title == "关于做好2024年惠民资金发放工作的通知"


TABLE_PORTAL = ("<table width='980'><tr><td><img src='/images/logo.gif' alt='平川县人民政府网'></td></tr></table>"
                "<table width='980'><tr><td class='dh'><a href='/'>首页</a> | <a href='/xxgk/'>信息公开</a></td></tr></table>"
                "<table width='980'><tr><td><table width='100%'><tr>{headline}</tr>"
                "<tr><td align='center'>2024-04-09　　来源：平川县纪委监委</td></tr></table>"
                "<div id='zoom'>" + TEXT + "</div></td></tr></table>")


@pytest.mark.parametrize("headline", [
    "<td align='center' style='font-size:22px;font-weight:bold;color:#c00'>{}</td>",
    "<td align='center' style='FONT-SIZE: 16pt; COLOR: #003366'>{}</td>",
    "<td align='center' style='font-size:16px;font-weight:700'>{}</td>",
    "<td align='center'><font size='5' color='#cc0000'><b>{}</b></font></td>",
])
def test_t1_a_headline_set_large_in_a_table_cell_wins_over_a_title_tag_of_the_site_alone(headline):
    # county portals built with table layouts: <title> is the site's name, the headline a plain
    # cell made large by its own inline style, with no heading tag or class to say so
    wanted = "平川县纪委监委通报两起惠民资金领域典型问题"
    found = page("<title>平川县人民政府网</title>", TABLE_PORTAL.format(headline=headline.format(wanted)))
    assert found.title == wanted


def test_t1_a_large_sidebar_caption_does_not_beat_the_headline_heading():
    found = page("<title>平川县人民政府网</title>",
                 "<div class='side'><div style='font-size:18px;font-weight:bold'>通知公告</div>"
                 "<ul><li><a href='/a/1.html'>关于开展春季造林绿化工作的通知</a></li></ul></div>"
                 "<h2>平川县纪委监委通报两起惠民资金领域典型问题</h2>"
                 f"<div class='info'>2024-04-09</div><div class='article-content'>{TEXT}</div>")
    assert found.title == "平川县纪委监委通报两起惠民资金领域典型问题"


def test_t2_the_visible_headline_wins_over_a_meta_in_other_words():
    assert extract("meta_title_differs.html").title == "清河县召开全县领导干部警示教育大会 观看专题片通报典型案例"


def test_t2_a_site_logo_heading_far_above_the_text_does_not_win():
    found = page("<title>清河新闻网</title><meta property='og:title' content='惠民资金专项检查'>",
                 "<h1 class='logo'>清河新闻网</h1>" + "".join(f"<li><a>栏目{i}</a></li>" for i in range(40))
                 + f"<div class='bd'><div class='article-content'>{TEXT}</div></div>")
    assert found.title == "惠民资金专项检查"


def test_t1_of_two_h1s_the_one_above_the_text_wins_over_the_logo_equal_to_title():
    found = page("<title>清河新闻网</title>",
                 "<h1 class='logo'>清河新闻网</h1><ul>" + "".join(f"<li><a>栏目{i}</a></li>" for i in range(8))
                 + "</ul><h1>县纪委监委开展惠民资金专项检查</h1><div class='article-title-info'>"
                 f"发布日期：2024-03-11 来源：县纪委监委</div><div>{TEXT}</div>")
    assert found.title == "县纪委监委开展惠民资金专项检查"
    assert found.published == bj(2024, 3, 11)


def test_t3_a_byline_glued_on_with_no_break_spaces_is_removed():
    assert extract("byline_title.html").title == "守住基层监督的“最后一公里”"


def test_t3_a_pager_in_title_is_removed():
    assert extract("pager_title.html").title == "城西屋苑供暖不達標 管理處互相推諉"


@pytest.mark.parametrize("raw, clean", [
    ("守住基层监督的最后一公里\u00a0\u00a0本刊记者\u00a0陈立新", "守住基层监督的最后一公里"),
    ("村民为何不满 本报记者 王某 李某某", "村民为何不满"),
    ("城西供暖不达标(页 1)", "城西供暖不达标"),
    ("城西供暖不达标（第2页）", "城西供暖不达标"),
    ("城西供暖不达标 (1/3)", "城西供暖不达标"),
    ("城西供暖不达标_第3页", "城西供暖不达标"),
    ("致敬一线记者", "致敬一线记者"),  # no name after the word: part of the headline
    ("记者节：致敬坚守", "记者节：致敬坚守"),
    ("2024年第1页报告", "2024年第1页报告"),
    ("学习贯彻系列评论（3）", "学习贯彻系列评论（3）"),   # a series number, not a pager
    ("争创全国 文明城市", "争创全国 文明城市"),             # 文 is a byline only with 文/ or 文：
    ("村里的路 文/周某", "村里的路"),
])
def test_t3_clean_title_removes_bylines_and_pagers_only_at_the_end(raw, clean):
    assert clean_title(raw) == clean


# -- times -------------------------------------------------------------------------------------

def test_d1_the_publication_date_wins_over_the_date_the_document_was_signed():
    found = extract("gov_notice_dates.html")
    assert found.published == bj(2024, 2, 2) and not found.published_has_time


def test_d1_a_document_date_is_used_only_when_the_page_has_no_other():
    found = page("<title>关于做好惠民资金发放工作的通知</title>",
                 "<h1>关于做好惠民资金发放工作的通知</h1><div>成文日期：2024年01月26日</div>"
                 f"<div class='article-content'>{TEXT}</div>")
    assert found.published == bj(2024, 1, 26)


def test_d1_the_date_under_the_headline_wins_over_a_sidebar_list_just_above_it():
    found = extract("gov_sidebar_dates.html")
    assert found.published == bj(2024, 3, 4) and not found.published_has_time


SIDEBAR = ("<div class='side'><div>最新发布</div><ul><li><a href='/a/9.html'>全市优化营商环境工作推进会召开</a>"
           "<em>{when}</em></li></ul></div>")


@pytest.mark.parametrize("when", ["2024-03-08 17:20", "2024-03-08"])
@pytest.mark.parametrize("bar", ["发布日期：2024-03-04　来源：平川镇人民政府", "2024-03-04　平川镇人民政府"])
def test_d1_a_labelled_or_bare_date_between_title_and_text_beats_any_date_above_the_title(when, bar):
    found = page("<title>平川镇完成农村集体三资清理_云岭市人民政府</title>",
                 SIDEBAR.format(when=when) + "<h1>平川镇完成农村集体三资清理</h1>"
                 f"<div class='attr'>{bar}</div><div class='article-content'>{TEXT}</div>")
    assert found.published == bj(2024, 3, 4)


def test_d1_a_time_above_the_post_is_taken_when_nothing_lies_between_title_and_text():
    # a microblog prints the author and the time above the post, and the post is its own title
    found = page("<title>平川镇完成农村集体三资清理</title>",
                 "<div class='card'><div class='name'>云岭发布</div><div class='from'>2024-03-04 09:12</div>"
                 "<div class='wbtext'>平川镇完成农村集体三资清理</div>"
                 f"<div class='article-content'>{TEXT}</div></div>")
    assert found.published == bj(2024, 3, 4, 9, 12)


def test_d2_a_date_split_over_elements_is_joined():
    assert extract("split_date.html").published == bj(2024, 2, 21, 10, 35)
    found = page("<title>惠民资金专项检查_清河新闻</title>",
                 "<h1>惠民资金专项检查</h1><div class='d'><span class='ym'>2024-02</span></div>"
                 f"<div class='dd'>21</div><div class='article-content'>{TEXT}</div>")
    assert found.published == bj(2024, 2, 21)


def test_d3_the_first_posts_time_beside_its_floor_after_the_text():
    found = extract("tieba.html")
    assert found.published == bj(2023, 11, 5, 21, 17)
    assert "顶一个" not in found.content


def test_d4_english_month_dates_on_a_forum():
    assert extract("english_date.html").published == bj(2013, 12, 28, 0, 28)


def test_d5_the_visible_time_wins_over_json_ld_on_a_long_information_bar():
    found = extract("jsonld_differs.html")
    assert found.published == bj(2024, 3, 11, 14, 26)
    assert found.content.startswith("縣議員今天在議會質詢時指出")


def test_d5_a_labelled_time_after_the_text_on_the_metas_day_gives_the_minutes():
    found = page("<title>惠民资金专项检查_清河新闻</title><script type='application/ld+json'>"
                 '{"@type": "NewsArticle", "datePublished": "2024-03-11T00:00:00+08:00"}</script>',
                 f"<h1>惠民资金专项检查</h1><div class='article-content'>{TEXT}</div>"
                 "<div class='foot'>发布时间：2024-03-11 16:05</div>"
                 "<div class='comment'>网友 发表于 2024-03-12 08:00</div>")
    assert found.published == bj(2024, 3, 11, 16, 5)


@pytest.mark.parametrize("info, expected", [
    ("发布时间：2024-03-11 14:26 更新时间：2024-03-12 09:00", bj(2024, 3, 11, 14, 26)),
    ("更新时间：2024-03-12 09:00 发布时间：2024-03-11 14:26", bj(2024, 3, 11, 14, 26)),
    ("最后编辑于 2024-03-12 09:00", None),
])
def test_an_update_time_beside_the_publication_time_is_passed_over(info, expected):
    found = page("<title>惠民资金专项检查_清河新闻</title>",
                 f"<h1>惠民资金专项检查</h1><div class='info'>{info}</div>"
                 f"<div class='article-content'>{TEXT}</div>")
    assert found.published == expected


def test_an_information_bar_right_under_the_text_gives_the_time_when_the_head_has_none():
    found = page("<title>惠民资金专项检查_清河新闻</title>",
                 f"<h1>惠民资金专项检查</h1><div class='article-content'>{TEXT}</div>"
                 "<div class='foot'>2024-03-12 17:08:45 来源：清河日报 编辑：王某</div>"
                 "<div class='rel'><a>另一篇</a> 2024-03-13 09:00</div>")
    assert found.published == bj(2024, 3, 12, 17, 8, 45)
    unlabelled = page("<title>惠民资金专项检查_清河新闻</title>",
                      f"<h1>惠民资金专项检查</h1><div class='article-content'>{TEXT}</div>"
                      "<div class='rel'><a>另一篇</a> 2024-03-13 09:00</div>")
    assert unlabelled.published is None  # a related item's date is not the article's


def test_a_today_widget_above_the_title_is_not_the_date():
    found = page("<title>惠民资金专项检查_清河新闻</title>",
                 "<div class='top'>今天是：2024年05月20日 星期一</div><div>日期：2024年05月20日</div>"
                 "<h1>惠民资金专项检查</h1><div class='info'>来源：县纪委监委 发布时间：2024-03-11 09:30</div>"
                 f"<div class='article-content'>{TEXT}</div>")
    assert found.published == bj(2024, 3, 11, 9, 30)


# -- bodies ------------------------------------------------------------------------------------

def test_b1_spans_and_keyword_links_keep_every_character():
    content = extract("span_split.html").content
    assert content.startswith("晨风网(微博)讯 5月6日，清河县纪委监委通报，今年以来全县共查处群众身边"
                              "不正之风和腐败问题37起，处理52人，其中给予党纪政务处分41人。")
    assert "惠民补贴、村级财务和低保审批等方面，其中惠民补贴领域14起。" in content
    assert "qhw2024" not in content and "分享到" not in content


def test_b2_a_blog_post_opening_with_short_lines_keeps_them():
    found = extract("blog.html")
    assert found.content.split("\n")[:3] == ["村口有一条路", "从我记事起就是土路", "下雨一脚泥"]
    assert "博客访问" not in found.content and "阅读(1203)" not in found.content


def test_b3_the_authors_card_and_the_repeated_headline_stay_out():
    content = extract("author_sidebar.html").content
    assert content.startswith("一份低保、一笔补贴、一张证明")
    assert "粉丝" not in content and "周明远" not in content and "晨风快评" not in content


def test_b4_a_summary_box_is_not_the_start_of_the_text():
    content = extract("summary_box.html").content
    assert content.startswith("今年以来，云岭市纪委监委把群众反映强烈的突出问题")
    assert "【摘要】" not in content


def test_b5_a_short_first_sub_head_is_kept():
    content = extract("subhead.html").content
    assert content.split("\n")[:2] == ["一、基本情况", "近期，县纪委监委查处了3起违反中央八项规定精神问题，现将有关情况通报如下。"]
    assert "二、典型问题" in content and "上一篇" not in content


BODY = ["近日，县纪委监委对全县惠民资金发放情况开展专项检查。", "县纪委监委要求各乡镇健全资金发放公示制度。"]


@pytest.mark.parametrize("leading, kept", [
    (["来源：", "清河日报"], []),                               # a label's value on its own line
    (["清河县纪委监委网站 王某"], []),                             # an outlet and an author, no label
    (["+", "留言", "列印", "A-A+"], []),                          # a tool bar, one word a line
    (["惠民资金专项检查强调", "健全公示制度", "王某出席"], []),      # the headline again, then its deck
    (["来自 微博网页版"], []),                                    # a lone line that reads like no text
    (["一、基本情况"], ["一、基本情况"]),                           # a numbered sub-head
    (["现场直击"], ["现场直击"]),                                  # an emphasised sub-head (see subheads)
    (["村口有一条路", "从我记事起就是土路", "下雨一脚泥"], ["村口有一条路", "从我记事起就是土路", "下雨一脚泥"]),
    (["【摘要】县纪委监委开展专项检查。"], []),
    (["——清河县整治群众身边不正之风见闻"], []),
    (["新华社北京3月12日电"], ["新华社北京3月12日电"]),       # a dateline lead on its own line
    (["本报讯（记者 王某）"], ["本报讯（记者 王某）"]),
    (["点击蓝字 关注我们", "作者 | 周某", "来源 | 清风云岭", "编辑丨李某"], []),  # a WeChat repost's head
    (["文/周某", "图/李某", "视频加载中..."], []),
])
def test_leading_lines_before_the_text_by_kind(leading, kept):
    assert clean_lines(leading + BODY, "惠民资金专项检查", subheads={"现场直击"}) == kept + BODY


def test_inside_the_text_only_an_exact_repeat_of_the_title_goes():
    lines = BODY[:1] + ["专项检查", "惠民资金专项检查"] + BODY[1:]
    assert clean_lines(lines, "惠民资金专项检查") == BODY[:1] + ["专项检查"] + BODY[1:]


def test_a_line_that_is_only_a_number_is_text():
    assert clean_lines(BODY + ["128"], "") == BODY + ["128"]
