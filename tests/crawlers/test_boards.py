"""Message boards (留言板, 网上问政, 12345) as html sources: each post with its handling at the head of
its text (已回复 / 未回复 / 办理中, the replying unit, the reply time), the complaint's own text
rather than the longer reply, and the time it was posted rather than the time it was answered."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawlers.extract.signals import BoardStatus, board_text, find_board, find_spread
from crawlers.poll import PollSource
from crawlers.spider import BusSpec, ScrapyRunner
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus
from pipeline.records import SHANGHAI, Article, decode
from pipeline.testing import drain

NOW = datetime(2024, 4, 10, 4, 0, tzinfo=timezone.utc)
BOARD = {"items": "table.wz-list tr.item", "link": "a::attr(href)"}
EXPECTED = {
    "清河镇污水直排河道，多次反映无人处理": (
        "2024-03-02 09:15", "【办理状态：已回复｜答复单位：清河县生态环境局｜答复时间：2024-03-08 16:20】",
        "清河镇东头的养殖场每天晚上往河里排污水"),
    "城南小区电梯坏了两个月没人修": ("2024-03-10 20:41", "【办理状态：未回复】", "城南小区3号楼电梯坏了两个月"),
    "农村低保评定不公开，希望查一查": ("2024-03-12 08:03", "【办理状态：办理中】", "我们村今年的低保名单没有公示"),
}
#: what each post's header shows (浏览次数, 网友跟帖): carried in the article for the spread rules
SPREAD = {"清河镇污水直排河道，多次反映无人处理": {"reads": 1203, "comments": 7},
          "城南小区电梯坏了两个月没人修": {"reads": 35820, "comments": 412},
          "农村低保评定不公开，希望查一查": {"reads": 986, "comments": 3}}


def check(articles: list[Article]) -> None:
    assert sorted(a.title for a in articles) == sorted(EXPECTED)
    for article in articles:
        when, head, start = EXPECTED[article.title]
        assert article.published.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == when
        first, second = article.content.split("\n")[:2]
        assert (first, second[: len(start)]) == (head, start)
        assert "感谢您对生态环境保护工作的关心" not in article.content  # the reply is not the post
        assert article.spread == SPREAD[article.title]


def test_a_board_polled_as_sources_test_does(fixture_server, fetcher, make_source):
    source = make_source("/sites/board/list.html", type="html", id="qinghe-wenzheng", extraction=BOARD)
    result = PollSource(fetcher).run(source, NOW)
    assert result.warnings == []
    check([c.article for c in result.candidates])


def test_a_board_crawled_by_the_spider_as_the_service_does(fixture_server, make_source, tmp_path):
    bus = LocalBus(tmp_path / "bus.sqlite3")
    runner = ScrapyRunner(BusSpec.of(bus), tmp_path / "state.sqlite3")
    source = make_source("/sites/board/list.html", type="html", id="qinghe-wenzheng", extraction=BOARD)
    assert runner.run(source, NOW).published == 3
    consumer = bus.consumer(RAW, "test-boards")
    check([decode(m.value, m.where, expect=Article) for m in drain(consumer, 3)])
    consumer.close()


def test_a_12345_hotline_page_in_gbk(fixture_server, fetcher, make_source):
    source = make_source("/sites/board/hotline_list.html", type="html", id="hotline",
                         extraction={"items": "ul.cases li"})
    article, = (c.article for c in PollSource(fetcher).run(source, NOW).candidates)
    assert article.encoding in ("gbk", "gb18030") and article.title == "反映某中学违规收取补课费"
    assert article.content.startswith("【办理状态：已回复｜答复单位：清河县教育局｜答复时间：2024-04-09 17:30】\n"
                                      "孩子所在的清河二中要求学生周末到校补课")
    assert article.published == datetime(2024, 4, 1, 10, 6, tzinfo=SHANGHAI)


@pytest.mark.parametrize("lines, expected", [
    (["办理状态：已办结", "答复单位：县住建局", "答复时间：2024-03-08 16:20"],
     BoardStatus("已回复", "县住建局", "2024-03-08 16:20")),
    (["状态", "待回复"], BoardStatus("未回复")),
    (["回复单位：", "县交通运输局", "回复时间：", "2024-03-09"], BoardStatus("已回复", "县交通运输局", "2024-03-09")),
    (["处理状态：已转办 承办单位：县市场监管局"], BoardStatus("办理中", "县市场监管局")),
    (["县纪委监委召开全会", "会议要求，对群众反映的问题要件件有回复。"], None),
    (["相关留言", "已回复"], None),  # a badge further down belongs to another post
])
def test_board_status_by_kind_of_line(lines, expected):
    assert find_board(lines, 0, len(lines), badges_until=0) == expected


def test_the_head_line_says_status_unit_and_time():
    assert BoardStatus("已回复", "县住建局", "2024-03-08 16:20").head() == \
        "【办理状态：已回复｜答复单位：县住建局｜答复时间：2024-03-08 16:20】"
    assert BoardStatus("办理中", "县住建局").head() == "【办理状态：办理中｜办理单位：县住建局】"
    assert BoardStatus("未回复").head() == "【办理状态：未回复】"


def test_the_complaint_is_read_under_its_label_up_to_the_reply():
    lines = ["留言内容", "村里低保名单没有公示。", "希望查一查。", "答复内容", "您好，已核查。"]
    assert board_text(lines, 0, len(lines)) == ["村里低保名单没有公示。", "希望查一查。"]
    assert board_text(["诉求内容：孩子学校违规收取补课费用。"], 0, 1) == ["孩子学校违规收取补课费用。"]
    assert board_text(["县纪委监委召开全会。"], 0, 1) == []


@pytest.mark.parametrize("lines, expected", [
    (["浏览次数：", "35820", "网友跟帖：", "412"], {"reads": 35820, "comments": 412}),  # label and value cells
    (["转发 12 评论 30 赞 88"], {"reposts": 12, "comments": 30, "likes": 88}),
    (["阅读 1.2万", "在看 35"], {"reads": 12000, "likes": 35}),
    (["评论", "2024-03-10 20:41"], {}),  # a time under a button is not a count
    (["第2页 评论区", "16"], {}),        # nor a page number beside a label that holds digits
])
def test_spread_counters_as_pages_show_them(lines, expected):
    assert find_spread(lines) == expected
