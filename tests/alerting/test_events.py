"""One alert per event, none hidden (issue 18), on SQLite and PostgreSQL and on every bus:
complaints written on one template are each their own alert with their own clock, reposts the
model judges apart all reach their story's alert, the spread rules hold whatever the order of
arrival, and a volume spike is one alert while it lasts, only when no single story explains it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.access import SYSTEM
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.intake import intake_step
from alerting.service import AlertService
from alerting.testing import NINE, scored
from classifiers.stage import classify_step
from classifiers.stories import StoryClusters
from classifiers.testing import COMPLAINTS, ScriptedScorer, plea_post, reposts, weibo_post
from pipeline import bus as topics
from pipeline.flow import StepCount, alert_step, drain as run_until_idle, publish_articles
from pipeline.records import Article


def run(bus, steps) -> None:
    """Each step over its topic until idle, in order (raw → classify → alert → intake)."""
    for topic, name, step in steps:
        run_until_idle(bus, topic, name, step, name)


def pipeline(bus, stories, scorer, service):
    return [(topics.RAW, "classify", classify_step(bus, scorer, StepCount(), stories)),
            (topics.SCORED, "alert", alert_step(bus, StepCount())),
            (topics.ALERTS, "intake", intake_step(bus, service, StepCount()))]


def post(text: str, n: int, minutes: float, source: str = "weibo-huichang") -> Article:
    return Article.create(source_id=source, url=f"https://weibo.example/{source}/{n}", title="", content=text,
                          fetched=NINE + timedelta(minutes=minutes))


# -- stories ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [weibo_post, plea_post])
def test_complaints_on_one_template_are_each_their_own_alert_with_its_own_clock(bus_factory, store_factory,
                                                                                tmp_path, template):
    bus = bus_factory()
    service = AlertService(store_factory(), AlertingConfig(), clock=ManualClock(NINE), channels={})
    articles = []
    for n, complaint in enumerate(COMPLAINTS):
        text = template(*complaint)
        articles.append(post(text, n, n))
        articles += [post(repost, n, n + 1 + k, source=f"portal-{k}")
                     for k, repost in enumerate(list(reposts(text).values())[:2])]
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, articles)
        run(bus, pipeline(bus, stories, ScriptedScorer(lambda a: 3), service))

    alerts = [a for a in service.list(SYSTEM) if a.trigger == "content"]
    assert len(alerts) == 8 and [a.articles for a in alerts] == [3] * 8
    for alert in alerts:
        (deadline,) = service.show(alert.id, SYSTEM).deadlines
        assert (deadline.kind, deadline.status, deadline.due_at) == ("major", "open",
                                                                     alert.first_seen + timedelta(hours=1))
    people = [c[2] for c in COMPLAINTS]
    assert sorted(next(p for p in people if p in a.summary) for a in alerts) == sorted(people)
    # eight stories naming 会昌 within the hour: one volume alert, whatever names they share
    assert len(service.list(SYSTEM)) == 9


def test_every_repost_of_a_story_the_model_judged_apart_reaches_its_alert(bus_factory, store_factory, tmp_path):
    bus = bus_factory()
    service = AlertService(store_factory(), AlertingConfig(), clock=ManualClock(NINE), channels={})
    text = weibo_post(*COMPLAINTS[3])
    original = post(text, 0, 0)
    ways = list(reposts(text).values())
    copies = [post(f"转发@网友{n}：{ways[n % len(ways)]}", n + 1, n + 1, source=f"weibo-{n}") for n in range(29)]
    judged = {original.id: 2} | {a.id: n % 3 for n, a in enumerate(copies)}  # 较大, then 无关/一般/较大
    scorer = ScriptedScorer(lambda article: judged[article.id])
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, [original])
        run(bus, pipeline(bus, stories, scorer, service))
        publish_articles(bus, copies)
        run(bus, pipeline(bus, stories, scorer, service))

    (alert,) = service.list(SYSTEM)
    assert (alert.articles, len(alert.sources), alert.level) == (30, 30, 2)


# -- the spread rules -------------------------------------------------------------------------------


def burst(count: int, seconds: float, level: int = 2, story: str = "s1") -> list:
    """``count`` reposts of one story within ``seconds``, earliest first."""
    step = seconds / (count - 1)
    return [scored("网传某镇干部吃拿卡要", at=NINE + timedelta(seconds=n * step), level=level, story=story,
                   source=f"forum-{n}", text=f"第{n}次转帖：网传某镇干部吃拿卡要") for n in range(count)]


def test_the_spread_rule_holds_when_the_newest_articles_arrive_first(service):
    articles = burst(52, 32)
    service.ingest_many(articles[::-1])  # a partition that lagged behind delivers the oldest last
    (alert,) = service.list(SYSTEM)
    assert (alert.articles, alert.level) == (52, 3)
    assert "扩散:60分钟内50篇→重大" in alert.level_reasons
    assert [e.action for e in service.show(alert.id, SYSTEM).history].count("raise") == 1


def test_a_late_article_completes_the_window_it_belongs_to(service, clock):
    articles = burst(50, 50 * 60)  # 50 within 50 minutes
    late = articles.pop(1)
    service.ingest_many(articles)
    (alert,) = service.list(SYSTEM)
    assert alert.level == 2                          # 49: not yet
    clock.advance(minutes=55)
    service.ingest(late)                             # seen at 09:01, taken in at 09:55
    alert = service.show(alert.id, SYSTEM).alert
    assert alert.level == 3 and "扩散:60分钟内50篇→重大" in alert.level_reasons


def test_articles_far_apart_never_make_a_window(service):
    articles = [a for n, a in enumerate(burst(60, 3 * 3600, level=1)) if n % 2 == 0]  # 30 in 3 hours
    service.ingest_many(articles[::-1])
    (alert,) = service.list(SYSTEM)
    assert alert.level == 2                          # 10 within an hour, never 50


# -- volume -----------------------------------------------------------------------------------------


def naming(place: str, n: int, minutes: float, story: str | None = None, level: int = 1):
    """An article of its own story (or ``story``) naming ``place``, ``minutes`` after nine."""
    return scored(f"{place}网友反映问题{n}", at=NINE + timedelta(minutes=minutes), level=level,
                  story=story or f"{place}-{n}", source=f"forum-{n}", text=f"{place}第{n}条帖子，群众议论纷纷")


def volume_alerts(service):
    return [a for a in service.list(SYSTEM) if a.trigger == "volume"]


def test_reposts_of_one_complaint_are_one_alert_whatever_names_they_carry(service):
    text = "会昌县周田镇干部吃拿卡要，群众实名举报"
    for hour in (0, 1):  # and the same story again an hour later
        service.ingest_many([scored("会昌县周田镇干部吃拿卡要", at=NINE + timedelta(hours=hour, minutes=n * 2 / 3),
                                    level=1, story="c1", source=f"forum-{hour}-{n}", text=f"转帖{hour}-{n}：{text}")
                             for n in range(30)])
        (alert,) = service.list(SYSTEM)
        assert alert.trigger == "content" and alert.articles == 30 * (hour + 1)


def test_a_spike_across_the_hour_is_found_whatever_the_order_of_arrival(service):
    articles = [naming("周田", n, 58.5 + n * 3 / 7) for n in range(8)]  # 09:58:30 to 10:01:30
    service.ingest_many(articles[4:] + articles[:4])
    (volume,) = volume_alerts(service)
    assert volume.articles == 8 and volume.title == "「周田」相关信息激增：1小时内最多8篇"
    assert volume.level_reasons == ["声量:周田 1小时内8篇/8个事件，平时约0.0篇"]


def test_two_names_in_the_same_articles_are_one_volume_alert(service):
    service.ingest_many([naming("会昌县周田镇", n, 4 * n) for n in range(8)])
    (volume,) = volume_alerts(service)
    assert volume.title == "「会昌」「周田」相关信息激增：1小时内最多8篇"
    assert volume.articles == 8 and len(service.list(SYSTEM)) == 9


def test_a_spike_that_lasts_stays_one_alert_with_its_numbers_current(service):
    service.ingest_many([naming("周田", n, 5 * n) for n in range(36)])  # one every 5 minutes for 3 hours
    (volume,) = volume_alerts(service)
    assert volume.articles == 36 and volume.title == "「周田」相关信息激增：1小时内最多13篇"


def test_a_spike_one_story_explains_is_that_story_and_the_rest_decide(service):
    big = [naming("周田", n, n, story="big") for n in range(20)]
    others = [naming("周田", 100 + n, 2 * n) for n in range(3)]
    service.ingest_many(big + others)
    assert volume_alerts(service) == []              # 23 articles, but 20 of them one story
    service.ingest(naming("周田", 200, 30))            # five stories now
    (volume,) = volume_alerts(service)
    assert volume.articles == 24 and "24篇/5个事件" in volume.level_reasons[0]


def test_a_story_first_seen_at_a_long_address_still_gets_its_alert(bus_factory, store_factory, tmp_path):
    bus = bus_factory()
    service = AlertService(store_factory(), AlertingConfig(), clock=ManualClock(NINE), channels={})
    text = weibo_post(*COMPLAINTS[5])
    address = "https://mp.weixin.example/s?__biz=MzA5NjE2NzQ0Mg==&mid=2651234567&idx=1&sn=" + "0f" * 40 + "&chksm=" + "ab" * 30
    articles = [Article.create(source_id="wechat", url=address, title="", content=text, fetched=NINE),
                post("转发：" + text, 1, 5)]
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, articles[:1])
        run(bus, pipeline(bus, stories, ScriptedScorer(lambda a: 3), service))
        publish_articles(bus, articles[1:])
        run(bus, pipeline(bus, stories, ScriptedScorer(lambda a: 3), service))
    (alert,) = service.list(SYSTEM)
    assert alert.articles == 2 and alert.story_key.startswith("story:") and len(alert.story_key) == 70
