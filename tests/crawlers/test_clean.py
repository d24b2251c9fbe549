"""Furniture and spam lines around a main text, removed by kind of line, never by site."""

from __future__ import annotations

from crawlers.normalize.clean import clean_lines, is_spam

TITLE = "县纪委监委开展节前廉政提醒"
BODY = ["近日，县纪委监委向全县党员干部发送节前廉政提醒短信，重申节日期间各项纪律要求。",
        "县纪委监委将组织明察暗访，对顶风违纪问题严肃查处、点名道姓通报曝光。"]


def test_leading_title_byline_tool_bar_and_caption_are_dropped():
    lines = ["首页 > 工作动态", TITLE, "来源：县纪委监委 作者：张某 发布时间：2024-02-05 10:20",
             "字号：大 中 小 打印 关闭", "图为明察暗访现场。记者 李某 摄", *BODY]
    assert clean_lines(lines, TITLE) == BODY


def test_everything_from_an_end_marker_on_is_dropped():
    lines = [*BODY, "责任编辑：王某", "上一篇：县委召开常委会", "相关阅读", "2024-02-06 另一篇文章"]
    assert clean_lines(lines, TITLE) == BODY


def test_trailing_hashtags_links_and_promotions_are_dropped():
    lines = [*BODY, "欢迎下载晨风新闻APP，看更多本地新闻", "#廉政提醒#", "https://example.test/app"]
    assert clean_lines(lines, TITLE) == BODY


def test_spam_lines_are_recognised_in_both_scripts():
    assert is_spam("扫码关注我们的公众号，获取更多资讯")
    assert is_spam("歡迎下載本報App，現在看新聞還能抽獎")
    assert is_spam("专业代开各类发票，加微信 abc123")
    assert not is_spam(BODY[0])


def test_a_short_post_without_sentences_keeps_its_text():
    assert clean_lines(["来源：论坛", "停车收费标准在哪里能查到"], "停车收费") == ["停车收费标准在哪里能查到"]
