"""Locality (属地), on SQLite and PostgreSQL: an item naming the county or its towns is the
commission's own and ranks first; a 重大 item from elsewhere keeps its level (the content decides
it) but starts no clock unless ``jurisdiction.clocks_for`` says so, and is shown for reference; an
item naming no place may be local and runs the clocks; a story becomes local, and its clocks
start, when one of its articles names the county."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.access import SYSTEM
from alerting.config import AlertingConfig, Jurisdiction
from alerting.locality import clocked, locate
from alerting.service import AlertService
from alerting.testing import NINE, scored

HOME = Jurisdiction()


@pytest.mark.parametrize("text, where", [
    ("会昌县周田镇干部吃拿卡要，群众实名举报", "local"),
    ("會昌縣紀委監委通報三起典型問題", "local"),                 # traditional script
    ("筠门岭镇卫生院院长被举报收受回扣", "local"),
    ("网传赣州市某区纪委书记收受礼金", "region"),
    ("江西省纪委监委通报：某厅长严重违纪违法", "region"),
    ("广东省深圳市南山区一名街道干部被查", "elsewhere"),
    ("河南郑州一街道办主任殴打商贩视频引关注", "elsewhere"),
    ("浙江西湖边一名干部醉驾", "elsewhere"),                   # 浙江西湖 does not name 江西
    ("某镇纪委书记泄露举报人信息，举报人遭报复", "unknown"),     # no place: may well be ours
    ("镇里的城市上门保鲜", "unknown"),                         # words a tagger calls places
])
def test_where_an_item_happened(text, where):
    assert locate(text, HOME) == where


def test_which_items_run_the_clocks():
    assert [w for w in ("local", "unknown", "region", "elsewhere") if clocked(w, HOME)] == ["local", "unknown"]
    region = Jurisdiction(clocks_for="region")
    assert [w for w in ("local", "unknown", "region", "elsewhere") if clocked(w, region)] == [
        "local", "unknown", "region"]
    assert clocked("elsewhere", Jurisdiction(clocks_for="all"))


def item(title: str, *, story: str, level: int = 3, minutes: float = 0, text: str = ""):
    return scored(title, at=NINE + timedelta(minutes=minutes), level=level, story=story, source=f"weibo-{story}",
                  text=text or f"{title}。网友转发并评论。")


def test_a_major_item_from_elsewhere_keeps_its_level_but_starts_no_clock(service):
    service.ingest(item("网传广东省某市纪委书记为举报对象通风报信", story="far"))
    (alert,) = service.list(SYSTEM)
    detail = service.show(alert.id, SYSTEM)
    assert (alert.level, alert.locality) == (3, "elsewhere")
    assert detail.deadlines == []  # 参考: nobody's one-hour clock


def test_local_and_unplaced_major_items_run_the_clock_and_rank_first(service):
    service.ingest_many([
        item("网传广东省某市纪委书记为举报对象通风报信", story="far"),
        item("赣州市某区纪委干部被指泄露举报信", story="near", minutes=1),
        item("会昌县某乡镇干部吃拿卡要", story="home", level=1, minutes=2),
        item("某镇纪委书记泄露举报人信息", story="somewhere", minutes=3),
        item("会昌县纪委被指压案不查", story="home3", minutes=4),
    ])
    queue = service.list(SYSTEM)
    assert [(a.story_key, a.locality) for a in queue] == [
        ("home3", "local"), ("somewhere", "unknown"), ("home", "local"), ("near", "region"), ("far", "elsewhere")]
    clocks = {a.story_key: [d.kind for d in service.show(a.id, SYSTEM).deadlines] for a in queue}
    assert clocks == {"home3": ["major"], "somewhere": ["major"], "home": [], "near": [], "far": []}


def test_a_story_becomes_local_when_an_article_names_the_county(service, clock):
    service.ingest(item("网传江西省某县纪委书记压案不查", story="s"))
    (alert,) = service.list(SYSTEM)
    assert alert.locality == "region" and service.show(alert.id, SYSTEM).deadlines == []
    clock.advance(minutes=20)
    service.ingest(item("转：会昌县纪委书记压案不查？", story="s", minutes=20))
    detail = service.show(alert.id, SYSTEM)
    assert detail.alert.locality == "local"
    (deadline,) = detail.deadlines
    assert deadline.due_at == NINE + timedelta(minutes=20, hours=1)  # from when it was found to be ours
    assert [e.action for e in detail.history].count("locate") == 1
    service.ingest(item("又一转：江西某县纪委", story="s", minutes=25))  # less local: changes nothing
    assert service.show(alert.id, SYSTEM).alert.locality == "local"


def test_the_clocks_for_items_elsewhere_are_a_setting(store_factory, clock):
    config = AlertingConfig(jurisdiction=Jurisdiction(clocks_for="all"))
    service = AlertService(store_factory(), config, clock=clock, channels={})
    service.ingest(item("网传广东省某市纪委书记为举报对象通风报信", story="far"))
    (alert,) = service.list(SYSTEM)
    assert [d.kind for d in service.show(alert.id, SYSTEM).deadlines] == ["major"]


def test_the_office_can_say_an_item_from_elsewhere_is_its_own(service, clock):
    service.ingest(item("网传广东省某市纪委书记为举报对象通风报信", story="far"))
    (alert,) = service.list(SYSTEM)
    clock.advance(minutes=12)
    service.escalate(alert.id, SYSTEM, "举报人是本县干部，属我委管辖", local=True)
    detail = service.show(alert.id, SYSTEM)
    assert detail.alert.locality == "local"
    (deadline,) = detail.deadlines
    assert deadline.due_at == NINE + timedelta(minutes=12, hours=1)
    (entry,) = [e for e in detail.history if e.action == "escalate"]
    assert entry.after["locality"] == {"from": "elsewhere", "to": "local"}
