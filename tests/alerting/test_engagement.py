"""The spread counters a story's pages show (reposts, comments, likes, reads) raise its alert, on
SQLite and PostgreSQL: summed over the story's articles, on the first article as on a later one,
for a volume spike as for a story, never lowering a level and never moving a finished alert."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.access import SYSTEM
from alerting.config import AlertingConfig, EngagementRule
from alerting.routing import engagement_level, story_engagement
from alerting.service import AlertService
from alerting.testing import NINE, scored


def post(n: int, *, story: str = "e1", level: int = 1, minutes: float = 0, **spread: int):
    return scored("网传某镇纪委干部收受礼金", at=NINE + timedelta(minutes=minutes), level=level, story=story,
                  source=f"weibo-{n}", text=f"第{n}条：网传某镇纪委干部收受礼金，有图有真相", spread=spread)


def test_a_post_that_arrives_far_travelled_opens_at_its_reach(service):
    service.ingest(post(0, reposts=12_400, comments=900))
    (alert,) = service.list(SYSTEM)
    assert alert.level == 3
    assert alert.level_reasons == ["模型判定:一般", "扩散:转发合计12,400→重大"]
    assert [d.kind for d in service.show(alert.id, SYSTEM).deadlines] == ["major"]  # the 1-hour clock runs


def test_reach_adds_up_over_the_story_and_raises_it_once(service):
    service.ingest_many([post(n, minutes=n, reposts=120, comments=10) for n in range(4)])
    (alert,) = service.list(SYSTEM)
    assert alert.level == 1  # 480 reposts: below the 500 of 较大
    service.ingest(post(4, minutes=5, reposts=30))
    detail = service.show(alert.id, SYSTEM)
    assert detail.alert.level == 2 and "扩散:转发合计510→较大" in detail.alert.level_reasons
    assert [e.action for e in detail.history].count("raise") == 1
    service.ingest(post(5, minutes=6, reposts=40))  # more reach, same level: nothing new to say
    assert [e.action for e in service.show(alert.id, SYSTEM).history].count("raise") == 1


def test_a_redelivered_article_does_not_count_twice(service):
    first = post(0, reposts=300)
    service.ingest_many([first, first, post(1, minutes=1, reposts=100)])
    assert service.list(SYSTEM)[0].level == 1  # 400, not 700


def test_reach_never_lowers_a_level_nor_moves_a_finished_alert(service):
    service.ingest(post(0, level=3))
    (alert,) = service.list(SYSTEM)
    service.ingest(post(1, minutes=1, reads=50_000))
    assert service.show(alert.id, SYSTEM).alert.level == 3
    service.ingest(post(0, story="e2", reposts=10))
    quiet = next(a for a in service.list(SYSTEM) if a.story_key == "e2")
    assert service.dismiss(quiet.id, SYSTEM, reason="与纪检监察工作无关") == "dismissed"
    service.ingest(post(1, story="e2", minutes=2, reposts=20_000))
    after = service.show(quiet.id, SYSTEM).alert
    assert (after.state, after.level, after.articles) == ("dismissed", 1, 2)  # counted, not raised


def test_a_volume_spike_carries_its_articles_reach(service):
    articles = [scored(f"周田网友反映问题{n}", at=NINE + timedelta(minutes=n * 5), level=1, story=f"z{n}",
                       source=f"forum-{n}", text=f"周田第{n}条帖子，群众议论纷纷", spread={"reposts": 2_000})
                for n in range(6)]  # six stories, each reposted 2,000 times: none alone reaches 10,000
    service.ingest_many(articles)
    stories = [a for a in service.list(SYSTEM) if a.trigger == "content"]
    assert {a.level for a in stories} == {2}
    (volume,) = [a for a in service.list(SYSTEM) if a.trigger == "volume"]
    # opened by five of them (10,000 reposts together) at 重大, not at the volume trigger's 较大
    assert volume.level == 3 and "扩散:转发合计10,000→重大" in volume.level_reasons
    assert "raise" not in [e.action for e in service.show(volume.id, SYSTEM).history]


def test_the_rules_come_from_settings(store_factory, clock):
    config = AlertingConfig(engagement=[EngagementRule(counter="likes", at_least=100, raise_to=2)])
    service = AlertService(store_factory(), config, clock=clock, channels={})
    service.ingest(post(0, reposts=50_000, likes=99))
    assert service.list(SYSTEM)[0].level == 1  # reposts are not counted by this unit's rules
    service.ingest(post(1, minutes=1, likes=1))
    assert service.list(SYSTEM)[0].level_reasons[-1] == "扩散:点赞合计100→较大"


@pytest.mark.parametrize("spreads, total", [
    ([{"reposts": 3}, {"reposts": 4, "reads": 10}, {}], {"reposts": 7, "reads": 10}),
    ([{"reposts": -1, "views": 5}, None], {}),  # nonsense and unknown counters are left out
])
def test_story_engagement_sums_what_the_pages_showed(spreads, total):
    assert story_engagement(spreads) == total


def test_the_highest_rule_that_holds_wins():
    rules = AlertingConfig().engagement
    assert engagement_level(rules, {"reposts": 10_000})[0] == 3
    assert engagement_level(rules, {"reposts": 9_999, "reads": 30_000})[0] == 2
    assert engagement_level(rules, {"likes": 10**9}) is None
