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
from classifiers.stories import Assignment, StoryClusters
from pipeline import bus as topics
from pipeline import metrics
from pipeline.bus import Bus, Message
from pipeline.flow import Step, StepCount, count_drop, dead_letter, handle_batch, reason_of
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
    story's id, first source and repost count. The story file is written in two transactions a
    batch, both committed before anything is published (and so before the offsets are): a batch
    replayed after a crash gets the same stories and drops the same copies. Then the batch is
    scored in one call; if that call fails, its articles are scored one by one so only the
    poison one is dead-lettered (clustering falls back the same way). A story's
    level is the highest of its articles' so far, this batch included: an article scored lower
    than its story takes the story's level and office (its explanation then starts with
    ``事件定级:较大``), so a repost the model judges apart from its original still reaches the alert
    queue and counts for its spread. (An article published in an earlier batch, before its story
    rose, keeps the level it was published with.)
    """

    def step(batch: list[Message]) -> None:
        decoded: list[tuple[Message, Article]] = []

        def keep(message: Message) -> None:
            decoded.append((message, decode(message.value, message.where, expect=Article)))

        handle_batch(bus, "classify", batch, keep, count)
        story: dict[int, dict] = {}
        if stories is not None:
            decoded, story = _join_stories(bus, stories, decoded, count)
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


def _join_stories(bus: Bus, stories: StoryClusters, decoded: list[tuple[Message, Article]],
                  count: StepCount) -> tuple[list[tuple[Message, Article]], dict[int, dict]]:
    """Each article of the batch in its story, in one transaction: the articles kept (an exact
    repost of a text already seen is dropped, counted in its story) and, by position among them,
    what a story member carries. If the batch fails as a whole (nothing of it is then written),
    its articles are clustered one by one so that only the poison one is dead-lettered."""
    # The id joins text and URL: the same text at another address is a repost, the same record
    # delivered again is a replay (same answer, not counted twice).
    wanted = [(f"{a.content_hash}:{a.canonical_url}", a.title + "\n" + a.content,
               a.published or a.fetched, a.source_id) for _, a in decoded]
    try:
        found: list[Assignment | None] = list(stories.assign_many(wanted))
    except Exception:
        log.exception("classify: clustering the batch failed; clustering one by one")
        found = []
        for (message, _), one in zip(decoded, wanted):
            try:
                found.append(stories.assign(*one))
            except Exception as exc:
                log.warning("classify: %s: %s", message.where, exc)
                dead_letter(bus, "classify", message, reason_of(exc), count)
                found.append(None)
    kept: list[tuple[Message, Article]] = []
    story: dict[int, dict] = {}
    for pair, assignment in zip(decoded, found):
        if assignment is None:
            continue
        if assignment.exact:
            count_drop("classify", "duplicate", count)
            continue
        story[len(kept)] = {"story_id": story_id(assignment.cluster_id),
                            "first_source": assignment.first_source,
                            "repost_count": assignment.repost_count}
        kept.append(pair)
    return kept, story


def _story_levels(stories: StoryClusters, batch: list[tuple[Message, ScoredArticle]]
                  ) -> list[tuple[Message, ScoredArticle]]:
    """The batch with every article at its story's level: each article's level counted in its
    story first (one transaction for the batch), so an original and its reposts in one batch all
    take the highest."""
    members = [scored for _, scored in batch if scored.story_id]
    raised = stories.raise_levels([(s.story_id, s.level, s.department) for s in members])
    best = {scored.story_id: answer for scored, answer in zip(members, raised)}  # the last answer
    out = []
    for message, scored in batch:
        level, office = best.get(scored.story_id, (scored.level, scored.department))
        if level > scored.level:
            scored = scored.model_copy(update={
                "level": level, "department": office or scored.department,
                "explanation": (f"事件定级:{LEVEL_NAMES[level]}", *scored.explanation)})
        out.append((message, scored))
    return out
