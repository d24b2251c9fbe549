"""The classify step on every bus: a story's level is the highest of its articles', so reposts the
model judges apart from their original all reach the alert queue at the story's level."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from classifiers.stage import classify_step
from classifiers.stories import StoryClusters
from classifiers.testing import COMPLAINTS, ScriptedScorer, reposts, weibo_post
from pipeline import bus as topics
from pipeline.flow import StepCount, drain as run_until_idle, publish_articles
from pipeline.records import Article, ScoredArticle, decode
from pipeline.testing import drain

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


def repost_variants(text: str, n: int) -> list[str]:
    """``n`` different reposts of ``text``: each way of reposting, by several accounts."""
    ways = list(reposts(text).values())
    return [f"转发@网友{i // len(ways)}：{ways[i % len(ways)]}" for i in range(n)]


def classify(bus, stories, scorer) -> StepCount:
    count = StepCount()
    run_until_idle(bus, topics.RAW, "classify", classify_step(bus, scorer, count, stories), "classify")
    return count


def test_reposts_scored_apart_all_carry_their_story_level(bus_factory, tmp_path):
    bus = bus_factory()
    text = weibo_post(*COMPLAINTS[1])
    original = Article.create(source_id="weibo-huichang", url="https://weibo.example/0", title="",
                              content=text, fetched=T0)
    copies = [Article.create(source_id=f"weibo-{n}", url=f"https://weibo.example/{n + 1}", title="", content=t,
                             fetched=T0 + timedelta(minutes=n + 1))
              for n, t in enumerate(repost_variants(text, 29))]
    # the model's judgement of near-identical reposts: 较大 for the original, 无关, 一般 or 较大 for the rest
    judged = {original.id: 2} | {a.id: n % 3 for n, a in enumerate(copies)}
    scorer = ScriptedScorer(lambda article: judged[article.id])
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, [original])
        classify(bus, stories, scorer)
        publish_articles(bus, copies)
        count = classify(bus, stories, scorer)
    assert (count.written, count.dead, count.dropped) == (29, 0, {})
    scored = [decode(m.value, m.where, expect=ScoredArticle) for m in drain(bus.consumer(topics.SCORED, "check"), 30)]
    assert len(scored) == 30 and {s.story_id for s in scored} == {f"{original.content_hash}:{original.canonical_url}"}
    assert {(s.level, s.department) for s in scored} == {(2, "信访室")}
    carried = [s for s in scored if judged[s.id] < 2]
    assert len(carried) == 20 and all(s.explanation[0] == "事件定级:较大" for s in carried)
    assert all(s.explanation == ("scripted:2",) for s in scored if judged[s.id] == 2)


def test_complaints_on_one_template_keep_their_own_levels(bus_factory, tmp_path):
    bus = bus_factory()
    posts = [Article.create(source_id="weibo-huichang", url=f"https://weibo.example/c{n}", title="",
                            content=weibo_post(*c), fetched=T0 + timedelta(minutes=n))
             for n, c in enumerate(COMPLAINTS)]
    first = posts[0].id
    scorer = ScriptedScorer(lambda article: 3 if article.id == first else 1)
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, posts)
        classify(bus, stories, scorer)
    scored = [decode(m.value, m.where, expect=ScoredArticle) for m in drain(bus.consumer(topics.SCORED, "check"), 8)]
    assert len({s.story_id for s in scored}) == 8
    assert sorted(s.level for s in scored) == [1] * 7 + [3]


def test_a_copy_in_the_batch_of_its_original_is_dropped_and_a_replayed_batch_answers_alike(bus_factory, tmp_path):
    bus = bus_factory()
    text = weibo_post(*COMPLAINTS[4])
    batch = [Article.create(source_id="weibo-huichang", url="https://weibo.example/orig", title="",
                            content=text, fetched=T0),
             Article.create(source_id="mirror", url="https://mirror.example/copy", title="", content=text,
                            fetched=T0 + timedelta(minutes=1)),
             Article.create(source_id="portal", url="https://portal.example/r", title="", content="转发：" + text,
                            fetched=T0 + timedelta(minutes=2)),
             Article.create(source_id="weibo-other", url="https://weibo.example/other", title="",
                            content=weibo_post(*COMPLAINTS[5]), fetched=T0)]
    scorer = ScriptedScorer(lambda article: 1)
    with StoryClusters(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, batch)
        first = classify(bus, stories, scorer)
        # the same records again, as after a crash before the offsets were committed
        count = StepCount()
        run_until_idle(bus, topics.RAW, "classify-replay", classify_step(bus, scorer, count, stories), "classify")
    for done in (first, count):
        assert (done.read, done.written, done.dead, done.dropped) == (4, 3, 0, {"duplicate": 1})
    scored = [decode(m.value, m.where, expect=ScoredArticle) for m in drain(bus.consumer(topics.SCORED, "check"), 6)]
    answers: dict[str, set] = {}
    for s in scored:
        # (the story's first source and spread a replay reports are the story's as it is now)
        answers.setdefault(s.url, set()).add((s.story_id,))
    # which of the two copies comes first depends on the partitions they landed in; the other is
    # dropped, the first time and the second
    kept = [a.url for a in batch[:2] if a.url in answers]
    assert len(kept) == 1 and set(answers) == {kept[0], batch[2].url, batch[3].url}
    assert all(len(given) == 1 for given in answers.values())  # the replay answered alike
    (copy,), (repost,), (other,) = answers[kept[0]], answers[batch[2].url], answers[batch[3].url]
    assert repost[0] == copy[0] != other[0]


class RefusingStories(StoryClusters):
    """A story file that cannot take articles whose text holds ``refuse`` (as a text that broke
    clustering would): the whole batch fails with them, and each alone."""

    refuse = "无法聚类"

    def assign_many(self, articles):
        if any(self.refuse in text for _, text, _, _ in articles):
            raise RuntimeError("cannot cluster this text")
        return super().assign_many(articles)


def test_an_article_clustering_cannot_take_is_dead_lettered_alone(bus_factory, tmp_path):
    bus = bus_factory()
    text = weibo_post(*COMPLAINTS[6])
    batch = [Article.create(source_id="weibo", url=f"https://weibo.example/{n}", title="", content=content,
                            fetched=T0 + timedelta(minutes=n))
             for n, content in enumerate([text, RefusingStories.refuse + text, "转发：" + text])]
    with RefusingStories(tmp_path / "stories.sqlite3") as stories:
        publish_articles(bus, batch)
        count = classify(bus, stories, ScriptedScorer(lambda article: 1))
    assert (count.read, count.written, count.dead) == (3, 2, 1)
    dead = drain(bus.consumer(topics.DEADLETTER, "check-dead"), 1)
    assert "cannot cluster this text" in dead[0].value.decode("utf-8")
    scored = [decode(m.value, m.where, expect=ScoredArticle) for m in drain(bus.consumer(topics.SCORED, "check"), 2)]
    assert len({s.story_id for s in scored}) == 1
