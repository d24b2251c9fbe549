"""Briefings made from the alert database hold together: what 总体情况 states is what the tables
list, whatever the kind of briefing, and the rising terms come with the headlines they stand for.

The stories are spread so that the old ways of counting would disagree: articles published long
before they were first seen, a story first seen in the previous period still spreading in this
one, a dismissed story, and every level."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from alerting.access import Actor
from alerting.briefing import render_html
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.reports import gather, period
from alerting.service import AlertService
from alerting.testing import scored
from pipeline.records import SHANGHAI

MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI)
LEADER = Actor("陈组长", role="leader")


def seed(service: AlertService, clock: ManualClock) -> dict[str, str]:
    """A week of work: the previous Friday's story still spreading on Monday, three new ones on
    Monday and Tuesday (重大, 较大, 一般), and one 较大 dismissed as a false alarm."""
    def at(day: int, hour: int) -> datetime:
        return MONDAY + timedelta(days=day, hours=hour)

    ids = {}
    clock.set(at(-3, 10))
    ids["old"] = service.ingest(scored("村民反映征地补偿款被截留两年未发", at=clock.now(), level=2, story="old"))
    for day, hour, title in ((0, 9, "某镇干部酒驾后找人顶包"), (0, 10, "网传副镇长酒驾顶包 当事人家属发视频"),
                             (0, 14, "酒驾顶包事件追踪：涉事干部已停职"), (1, 8, "顶包网帖仍在发酵")):
        clock.set(at(day, hour))
        ids.setdefault("major", service.ingest(scored(title, at=clock.now(), level=3, story="major")))
    clock.set(at(0, 11))
    service.ingest(scored("又有村民反映征地补偿款被截留", at=clock.now(), level=2, story="old"))
    clock.set(at(1, 9))
    ids["large"] = service.ingest(scored("某村低保名额给了村干部亲戚", at=clock.now(), level=2, story="large"))
    ids["small"] = service.ingest(scored("县纪委监委召开警示教育会", at=clock.now(), level=1, story="small"))
    clock.set(at(1, 10))
    ids["false"] = service.ingest(scored("某地干部顶包传言", at=clock.now(), level=2, story="false"))
    assert service.dismiss(ids["false"], LEADER, "外省旧闻，与本县无关") == "dismissed"
    clock.set(at(2, 12))
    return ids


def stated(html: str) -> dict:
    """What the briefing says in words, and what its tables list."""
    overview = html[html.index("一、总体情况"):html.index("二、重要舆情")]
    table = html[html.index("表1　重要舆情一览"):html.index("三、苗头性倾向性问题")] if "表1　" in html else ""
    rows = re.findall(r'<span class="lv lv-(重大|较大|一般)">', table)
    said = re.search(r"本期纳入重要舆情管理(\d+)起（([^）]*)）", overview)
    by_level = dict((name, int(n)) for name, n in re.findall(r"(重大|较大|一般)(\d+)起", said.group(2))) if said else {}
    return {"said": int(said.group(1)) if said else 0, "said_by_level": by_level, "rows": len(rows),
            "rows_by_level": {name: rows.count(name) for name in set(rows)}, "overview": overview}


@pytest.mark.parametrize("kind, day, span", [
    ("daily", date(2026, 12, 7), None),
    ("weekly", date(2026, 12, 7), None),
    ("range", None, (date(2026, 12, 1), date(2026, 12, 9))),
])
def test_the_counts_stated_are_the_rows_of_the_tables(store_factory, kind, day, span):
    clock = ManualClock(MONDAY)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    ids = seed(service, clock)
    start, end, prev_start, prev_end = period(kind, day, *(span or (None, None)))
    data = gather(service.store, service.config, kind, start, end, prev_start, prev_end, clock.now())
    html = render_html(data)
    seen = stated(html)

    assert seen["said"] == seen["rows"] == len(data.stories) > 0
    assert seen["said_by_level"] == seen["rows_by_level"]
    assert "未监测" not in seen["overview"]
    listed = {s.alert_id for s in data.stories}
    assert ids["major"] in listed and ids["old"] in listed and ids["small"] not in listed
    # the articles are counted at their story's level, first seen in the period, the dismissed left out
    expected = {"daily": {0: 0, 1: 0, 2: 1, 3: 3},     # Monday: the old story's new article, three 顶包
                "weekly": {0: 0, 1: 1, 2: 2, 3: 4},    # and Tuesday's
                "range": {0: 0, 1: 1, 2: 3, 3: 4}}     # and the old story's first, on Friday the 4th
    assert data.totals == expected[kind]
    assert f"舆情信息{data.relevant}条" in seen["overview"]
    assert ids["false"] not in listed                 # dismissed: in 排除误报 only, when decided in the period


def test_rising_terms_come_with_their_headlines_and_without_the_county_or_office_words(store_factory):
    clock = ManualClock(MONDAY)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    for week in range(-6, 1):  # the county's routine notices, this week as every week before
        for n in range(3):
            clock.set(MONDAY + timedelta(weeks=week, days=n, hours=15))
            service.ingest(scored(f"会昌县纪委监委严肃查处违纪问题（{week}-{n}）", at=clock.now(), level=1,
                                  story=f"routine{week}{n}"))
    seed(service, clock)
    start, end, prev_start, prev_end = period("weekly", date(2026, 12, 7))
    data = gather(service.store, service.config, "weekly", start, end, prev_start, prev_end, clock.now())

    terms = {t.term: t for t in data.rising_terms}
    assert "酒驾" in terms
    assert terms["酒驾"].examples == ("某镇干部酒驾后找人顶包", "网传副镇长酒驾顶包 当事人家属发视频",
                                    "酒驾顶包事件追踪：涉事干部已停职")
    assert not {"会昌县", "纪委监委", "严肃查处", "违纪"} & set(terms)
    html = render_html(data)
    assert "表2附" in html and "某镇干部酒驾后找人顶包" in html.split("三、苗头性倾向性问题")[1]
    assert "严肃查处" not in html.split("三、苗头性倾向性问题")[1].split("四、主要来源")[0]


def test_the_drafted_sections_name_the_open_stories_and_the_office_may_reword_them(store_factory):
    clock = ManualClock(MONDAY)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    seed(service, clock)
    start, end, prev_start, prev_end = period("weekly", date(2026, 12, 7))
    data = gather(service.store, service.config, "weekly", start, end, prev_start, prev_end, clock.now())
    assert any("某镇干部酒驾后找人顶包" in m for m in data.measures)
    assert len(data.measures) == sum(1 for s in data.stories if s.open)
    assert data.next_steps[-1].startswith("继续做好日常监测")

    edited = gather(service.store, service.config, "weekly", start, end, prev_start, prev_end, clock.now(),
                    edits={"measures": ["宣传部会同监督检查室核实顶包网帖，24小时内发布权威信息。"]})
    assert edited.measures == ["宣传部会同监督检查室核实顶包网帖，24小时内发布权威信息。"]
    assert edited.next_steps == data.next_steps
    assert "24小时内发布权威信息" in render_html(edited)


def test_sources_appear_by_name(store_factory):
    clock = ManualClock(MONDAY)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    seed(service, clock)
    start, end, prev_start, prev_end = period("weekly", date(2026, 12, 7))
    data = gather(service.store, service.config, "weekly", start, end, prev_start, prev_end, clock.now(),
                  source_names={"weibo-huichang": "微博·会昌发布"})
    assert [s.source for s in data.sources] == ["微博·会昌发布"]
    assert {s.first_source for s in data.stories} == {"微博·会昌发布"}
    assert "weibo-huichang" not in render_html(data)
