"""The classify step: a batch of ``articles.raw`` clustered into stories and scored into
``articles.scored``.

It sits between the crawlers and the index and alert steps; :mod:`yuqing.app` wires it to its
topics. The scorer is anything with the :class:`Scorer` methods: the trained model with the
office's schemes (:class:`classifiers.scorer.ModelScorer`) or the keyword baseline
(:class:`classifiers.keywords.KeywordScorer`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from classifiers.scorer import LEVEL_NAMES
from classifiers.stories import StoryClusters
from pipeline import bus as topics
from pipeline import metrics
from pipeline.bus import Bus, Message
from pipeline.errors import Drop
from pipeline.flow import Step, StepCount, dead_letter, handle_batch, reason_of
from pipeline.records import Article, ScoredArticle, decode, encode

__all__ = ["Scorer", "classify_step", "story_id", "STORY_ID_MAX"]

log = logging.getLogger(__name__)


#: The longest story id published as it is: a cluster's id is its first article's, which carries
#: the article's whole URL, and the alert store keys alerts by story in 200 characters.
STORY_ID_MAX = 200


def story_id(cluster_id: str) -> str:
    """The story id an article of cluster ``cluster_id`` carries: the cluster id, or
    ``story:<sha256>`` of it when it is longer than :data:`STORY_ID_MAX` (a WeChat or Weibo URL
    can be: PostgreSQL then refused the story's alert and every article of it was dead-lettered)."""
    if len(cluster_id) <= STORY_ID_MAX:
        return cluster_id
    return "story:" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()


class Scorer(Protocol):
    """Anything that turns Articles into ScoredArticles (the classifier, the keyword baseline).

    ``score_many`` scores a batch at once (much faster for the model) and returns one record per
    article, in order.
    """

    version: str

    def score(self, article: Article) -> ScoredArticle: ...

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]: ...


def classify_step(bus: Bus, scorer: Scorer, count: StepCount, stories: StoryClusters | None = None) -> Step:
    """Cluster and score a batch of ``articles.raw`` into ``articles.scored``.

    The batch is decoded first (unreadable records are dead-lettered) and, with ``stories`` (a
    :class:`classifiers.stories.StoryClusters`), each article joins its story: an exact
    repost of a text already seen is dropped (counted in its story), a near duplicate carries its
    story's id, first source and repost count. Then the batch is scored in one call; if that call
    fails, its articles are scored one by one so only the poison one is dead-lettered. A story's
    level is the highest of its articles' so far, this batch included: an article scored lower
    than its story takes the story's level and office (its explanation then starts with
    ``事件定级:较大``), so a repost the model judges apart from its original still reaches the alert
    queue and counts for its spread. (An article published in an earlier batch, before its story
    rose, keeps the level it was published with.)
    """

    def step(batch: list[Message]) -> None:
        decoded: list[tuple[Message, Article]] = []
        story: dict[int, dict] = {}

        def keep(message: Message) -> None:
            article = decode(message.value, message.where, expect=Article)
            if stories is not None:
                # The id joins text and URL: the same text at another address is a repost,
                # the same record delivered again is a replay (same answer, not counted twice).
                found = stories.assign(f"{article.content_hash}:{article.canonical_url}",
                                       article.title + "\n" + article.content,
                                       article.published or article.fetched, article.source_id)
                if found.exact:
                    raise Drop("duplicate")
                story[len(decoded)] = {"story_id": story_id(found.cluster_id),
                                       "first_source": found.first_source,
                                       "repost_count": found.repost_count}
            decoded.append((message, article))

        handle_batch(bus, "classify", batch, keep, count)
        try:
            results = scorer.score_many([a for _, a in decoded])
        except Exception:
            log.exception("classify: batch scoring failed; scoring one by one")
            results = None
        out: list[tuple[Message, ScoredArticle]] = []
        for i, (message, article) in enumerate(decoded):
            if results is not None:
                scored = results[i]
            else:
                try:
                    scored = scorer.score(article)
                except Exception as exc:
                    dead_letter(bus, "classify", message, reason_of(exc), count)
                    continue
            if i in story:
                scored = scored.model_copy(update=story[i])
            out.append((message, scored))
        if stories is not None:
            out = _story_levels(stories, out)
        for message, scored in out:
            bus.publish(topics.SCORED, encode(scored), key=message.key)
            count.written += 1
        bus.flush()
        metrics.PRODUCED.labels("classify").inc(len(out))

    return step


def _story_levels(stories: StoryClusters, batch: list[tuple[Message, ScoredArticle]]
                  ) -> list[tuple[Message, ScoredArticle]]:
    """The batch with every article at its story's level: each article's level counted in its
    story first, so an original and its reposts in one batch all take the highest."""
    best: dict[str, tuple[int, str]] = {}
    for _, scored in batch:
        if scored.story_id:
            best[scored.story_id] = stories.raise_level(scored.story_id, scored.level, scored.department)
    out = []
    for message, scored in batch:
        level, office = best.get(scored.story_id, (scored.level, scored.department))
        if level > scored.level:
            scored = scored.model_copy(update={
                "level": level, "department": office or scored.department,
                "explanation": (f"事件定级:{LEVEL_NAMES[level]}", *scored.explanation)})
        out.append((message, scored))
    return out
