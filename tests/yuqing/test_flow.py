"""Source to sink: articles through the bus, the classifier and into the index, on every backend
pair (embedded and real), with the steps as the application wires them (yuqing.app.STEPS).
Nothing lost, nothing doubled, poison records dead-lettered."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from classifiers.keywords import KeywordScorer
from classifiers.stories import StoryClusters
from pipeline.bus import DEADLETTER, RAW
from pipeline.bus.local import LocalBus
from pipeline.config import load_settings
from pipeline.flow import publish_articles
from pipeline.index import Query
from pipeline.index.sqlite import SqliteIndex
from pipeline.records import Article, ScoredArticle, decode, encode
from pipeline.testing import drain
from yuqing.app import Application

ARTICLES = [
    Article.create(source_id="jxlz", url=f"https://www.jxlz.gov.cn/scdc/{i}.html",
                   title=f"某县第{i}号通报：原局长涉嫌严重违纪违法接受审查调查",
                   content=f"据县纪委监委消息，第{i}号案件当事人目前正接受纪律审查和监察调查。")
    for i in range(12)
] + [
    Article.create(source_id="sports", url="https://news.example.cn/s/1.html",
                   title="赣州队主场取胜", content="比赛第80分钟打进制胜球。"),
]


def application(tmp_path, bus, index=None, scorer=None, stories=None) -> Application:
    """The application over the given backends, the keyword baseline as its classifier; without
    ``stories`` every article is a story of its own."""
    settings = load_settings(None, overrides={("paths", "data_dir"): str(tmp_path / "data")})
    return Application(settings, bus=bus, index=index, scorer=scorer or KeywordScorer(),
                       stories=stories, cluster_stories=stories is not None, min_level=2)


def test_articles_travel_from_raw_to_the_index(bus_factory, index_factory, tmp_path):
    bus, index = bus_factory(), index_factory()
    assert publish_articles(bus, ARTICLES) == 13
    app = application(tmp_path, bus, index)
    classified = app.drain("classify", idle_s=3.0)
    indexed = app.drain("index", idle_s=3.0)
    index.refresh()
    assert (classified.written, indexed.written, classified.dead + indexed.dead) == (13, 13, 0)
    assert index.count() == 13
    cases = index.search(Query(text="审查调查", departments=("案管室",), min_level=2, limit=50))
    assert cases.total == 12
    assert index.search(Query(levels=(0,))).hits[0].article.source_id == "sports"


def half_a_surrogate_pair() -> bytes:
    # JSON can escape half of a surrogate pair; such a text has no UTF-8, and neither orjson
    # nor Elasticsearch's serializer would write it again
    record = json.loads(encode(ARTICLES[2]))
    record["content"] += "\ud83d"
    return json.dumps(record).encode("ascii")


@pytest.mark.parametrize("poison, why", [
    (b"\x00 not a record", "not JSON"),
    (half_a_surrogate_pair(), "surrogate"),
], ids=["not-json", "half-a-surrogate-pair"])
def test_a_poison_record_goes_to_deadletter_and_the_rest_go_on(
        bus_factory, index_factory, tmp_path, poison, why):
    bus, index = bus_factory(), index_factory()
    bus.publish(RAW, encode(ARTICLES[0]), key=b"same-story")
    bus.publish(RAW, poison, key=b"same-story")
    bus.publish(RAW, encode(ARTICLES[1]), key=b"same-story")
    bus.flush()
    app = application(tmp_path, bus, index)
    classified = app.drain("classify", idle_s=3.0)
    app.drain("index", idle_s=3.0)
    index.refresh()
    assert (classified.read, classified.written, classified.dead) == (3, 2, 1)
    assert index.count() == 2
    [letter] = drain(bus.consumer(DEADLETTER, "ops"), 1)
    body = json.loads(letter.value)
    assert body["stage"] == "classify"
    assert body["origin"].startswith("articles.raw[") and "@1" in body["origin"]
    assert why in body["reason"]
    assert body["value"] == poison.decode()  # the record as it arrived, for the operator


def test_a_crash_before_commit_replays_without_duplicates(bus_factory, index_factory, tmp_path):
    bus = bus_factory()
    publish_articles(bus, ARTICLES)
    application(tmp_path, bus).drain("classify", idle_s=3.0)

    # An index worker that wrote to the index and died before committing its offsets.
    index = index_factory()
    crashed = bus.consumer("articles.scored", "index")
    for message in drain(crashed, 13):
        index.add(decode(message.value, message.where, expect=ScoredArticle))
    index.flush()
    crashed.close()

    # Its replacement gets the whole batch again; the index still holds one document each.
    restarted = bus_factory()
    again = application(tmp_path, restarted, index_factory()).drain("index", idle_s=3.0)
    index.refresh()
    assert again.read == 13
    assert index.count() == 13


class _FailsOnOne(KeywordScorer):
    """The baseline, except that it cannot score one particular article."""

    def score(self, article):
        if "第3号" in article.title:
            raise ValueError("cannot score this one")
        return super().score(article)


def test_an_article_the_scorer_cannot_handle_is_dead_lettered_alone(bus_factory, tmp_path):
    bus = bus_factory()
    publish_articles(bus, ARTICLES[:5])
    classified = application(tmp_path, bus, scorer=_FailsOnOne()).drain("classify", idle_s=3.0)
    assert (classified.written, classified.dead) == (4, 1)
    [letter] = drain(bus.consumer(DEADLETTER, "ops"), 1)
    assert json.loads(letter.value)["reason"] == "ValueError: cannot score this one"


def test_steps_count_what_they_do_in_prometheus_metrics(tmp_path):
    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {s: sample("yuqing_consumed_total", stage=s) for s in ("classify", "index", "alert")}
    dropped = sample("yuqing_dropped_total", stage="alert", reason="below_alert_level")
    bus = LocalBus(tmp_path / "bus.sqlite3")
    publish_articles(bus, ARTICLES)
    app = application(tmp_path, bus, SqliteIndex(tmp_path / "index.sqlite3"))
    for step in ("classify", "index", "alert"):
        app.drain(step, idle_s=0.5)
    for stage in ("classify", "index", "alert"):
        assert sample("yuqing_consumed_total", stage=stage) - before[stage] == 13
    assert sample("yuqing_dropped_total", stage="alert", reason="below_alert_level") - dropped == 1
    assert sample("yuqing_fetch_to_alert_seconds_count") >= 12


def test_reposts_join_one_story_and_exact_copies_are_dropped(bus_factory, tmp_path):
    body = ("据赣州市纪委监委消息：会昌县某局原局长王某某涉嫌严重违纪违法，目前正接受纪律审查和监察"
            "调查。王某某曾任县发改委副主任、某镇党委书记，2019年起任现职。")
    original = Article.create(source_id="jxlz", url="https://www.jxlz.gov.cn/a/1.html",
                              title="会昌县某局原局长王某某接受审查调查", content=body)
    repost = Article.create(source_id="portal", url="https://news.example.cn/x/88.html",
                            title="会昌县某局原局长王某某接受审查调查",
                            content=body + "（来源：赣州市纪委监委 责任编辑：李某）")
    copy = Article.create(source_id="farm", url="https://farm.example.com/p/3",
                          title=original.title, content=body)
    other = ARTICLES[-1]
    bus = bus_factory()
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        app = application(tmp_path, bus, stories=stories)
        publish_articles(bus, [original])
        app.drain("classify", idle_s=3.0)
        publish_articles(bus, [repost, copy, other, original])  # the last: a replay
        count = app.drain("classify", idle_s=3.0)
    assert count.dropped == {"duplicate": 1}
    scored = [decode(m.value, m.where) for m in drain(bus.consumer("articles.scored", "t"), 4)]
    by_source = {s.source_id: s for s in scored}
    assert len(scored) == 4 and set(by_source) == {"jxlz", "portal", "sports"}
    assert by_source["portal"].story_id == by_source["jxlz"].story_id
    assert by_source["portal"].first_source == "jxlz"
    assert by_source["portal"].repost_count == 1
    assert by_source["sports"].story_id != by_source["jxlz"].story_id
