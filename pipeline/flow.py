"""Move records along the bus: publish articles, classify them, index them.

Each step reads a batch from its topic, handles every record, writes what it produced (the next
topic, the index) and only then commits its offsets: a crash anywhere in between redelivers the
batch, and because ids are content hashes the redelivery changes nothing. A record that cannot be
handled goes to ``deadletter`` with the reason and where it came from; the batch goes on.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Protocol

from pipeline import bus as topics
from pipeline import metrics
from pipeline.bus import Bus, Message
from pipeline.errors import BackendUnavailable, Drop, Quarantine, RecordError
from pipeline.index import Index
from pipeline.records import Article, ScoredArticle, decode, encode

log = logging.getLogger(__name__)


class Scorer(Protocol):
    """Anything that turns Articles into ScoredArticles (the classifier, the keyword baseline).

    ``score_many`` scores a batch at once (much faster for the model) and returns one record per
    article, in order.
    """

    version: str

    def score(self, article: Article) -> ScoredArticle: ...

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]: ...


@dataclass
class StepCount:
    """What one step did: records read, written, dropped (by reason) and dead-lettered."""

    read: int = 0
    written: int = 0
    dead: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def dead_letter(stage: str, origin: str, reason: str, value: bytes) -> bytes:
    """A dead-letter record: why, where from, and the original bytes (as text when they decode)."""
    try:
        original, encoding = value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        original, encoding = value.hex(), "hex"
    return json.dumps(
        {
            "schema": "deadletter/1",
            "stage": stage,
            "origin": origin,
            "reason": reason,
            "at": datetime.now(timezone.utc).isoformat(),
            "encoding": encoding,
            "value": original,
        },
        ensure_ascii=False,
    ).encode("utf-8")


def publish_articles(bus: Bus, articles: Iterable[Article]) -> int:
    """Publish articles to ``articles.raw`` keyed by their canonical URL; returns how many."""
    n = 0
    for article in articles:
        bus.publish(topics.RAW, encode(article), key=article.key())
        n += 1
    bus.flush()
    return n


def _handle_batch(
    bus: Bus, stage: str, batch: list[Message], handle: Callable[[Message], None], count: StepCount
) -> None:
    metrics.CONSUMED.labels(stage).inc(len(batch))
    for message in batch:
        count.read += 1
        try:
            handle(message)
        except Drop as signal:
            count.dropped[signal.reason] = count.dropped.get(signal.reason, 0) + 1
            metrics.DROPPED.labels(stage, signal.reason).inc()
        except (Quarantine, RecordError) as exc:
            log.warning("%s: %s: %s", stage, message.where, exc)
            _dead(bus, stage, message, str(exc), count)


def _dead(bus: Bus, stage: str, message: Message, reason: str, count: StepCount) -> None:
    bus.publish(topics.DEADLETTER, dead_letter(stage, message.where, reason, message.value),
                key=message.key)
    count.dead += 1
    metrics.DEADLETTERED.labels(stage).inc()


Step = Callable[[list[Message]], None]


def classify_step(bus: Bus, scorer: Scorer, count: StepCount, stories=None) -> Step:
    """Cluster and score a batch of ``articles.raw`` into ``articles.scored``.

    The batch is decoded first (unreadable records are dead-lettered) and, with ``stories`` (a
    :class:`crawlers.normalize.dedup.StoryClusters`), each article joins its story: an exact
    repost of a text already seen is dropped (counted in its story), a near duplicate carries its
    story's id, first source and repost count. Then the batch is scored in one call; if that call
    fails, its articles are scored one by one so only the poison one is dead-lettered.
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
                story[len(decoded)] = {"story_id": found.cluster_id,
                                       "first_source": found.first_source,
                                       "repost_count": found.repost_count}
            decoded.append((message, article))

        _handle_batch(bus, "classify", batch, keep, count)
        try:
            results = scorer.score_many([a for _, a in decoded])
        except Exception:
            log.exception("classify: batch scoring failed; scoring one by one")
            results = None
        written = 0
        for i, (message, article) in enumerate(decoded):
            if results is not None:
                scored = results[i]
            else:
                try:
                    scored = scorer.score(article)
                except Exception as exc:
                    _dead(bus, "classify", message, f"{type(exc).__name__}: {exc}", count)
                    continue
            if i in story:
                scored = scored.model_copy(update=story[i])
            bus.publish(topics.SCORED, encode(scored), key=message.key)
            count.written += 1
            written += 1
        bus.flush()
        metrics.PRODUCED.labels("classify").inc(written)

    return step


def index_step(bus: Bus, index: Index, count: StepCount) -> Step:
    """Index a batch of ``articles.scored``; documents the index refuses are dead-lettered.

    When the index cannot be reached, ``flush`` raises BackendUnavailable and keeps the batch;
    the worker then backs off and the batch is delivered again (ids make that harmless).
    """

    def step(batch: list[Message]) -> None:
        origins: dict[str, Message] = {}

        def handle(message: Message) -> None:
            scored = decode(message.value, message.where, expect=ScoredArticle)
            index.add(scored)
            origins[scored.id] = message

        _handle_batch(bus, "index", batch, handle, count)
        rejected = index.flush()
        for refusal in rejected:
            _dead(bus, "index", origins[refusal.id], refusal.reason, count)
        count.written += len(origins) - len(rejected)
        metrics.PRODUCED.labels("index").inc(len(origins) - len(rejected))
        bus.flush()

    return step


def alert_step(bus: Bus, count: StepCount, min_level: int = 1) -> Step:
    """Put scored articles of ``min_level`` or above on the ``alerts`` topic (the alert queue)."""

    def step(batch: list[Message]) -> None:
        def handle(message: Message) -> None:
            scored = decode(message.value, message.where, expect=ScoredArticle)
            if scored.level < min_level:
                raise Drop("below_alert_level")
            bus.publish(topics.ALERTS, message.value, key=message.key)
            count.written += 1
            queued.append(scored.fetched)

        queued: list = []
        _handle_batch(bus, "alert", batch, handle, count)
        bus.flush()
        now = datetime.now(timezone.utc)
        metrics.PRODUCED.labels("alert").inc(len(queued))
        for fetched in queued:
            metrics.FETCH_TO_ALERT.observe(max(0.0, (now - fetched).total_seconds()))

    return step


STEPS = {
    # name: (input topic, default consumer group)
    "classify": (topics.RAW, "classify"),
    "index": (topics.SCORED, "index"),
    "alert": (topics.SCORED, "alert"),
    # the alert queue into the alert workflow's database (alerting.intake.intake_step)
    "intake": (topics.ALERTS, "intake"),
}


@dataclass
class Worker:
    """Run one step over its topic: poll, handle, make the output durable, then commit.

    ``run(stop)`` loops until ``stop`` is set (SIGTERM: the batch in hand is finished and
    committed first) or, with ``until_idle``, until no record arrives for ``idle_s``. When a
    backend is unavailable the batch is not committed; the worker waits (exponential backoff with
    jitter, up to ``max_backoff_s``), reopens its consumer so it resumes from the last commit,
    and tries again. Nothing is lost and nothing is indexed twice.
    """

    bus: Bus
    topic: str
    group: str
    step: Step
    batch_size: int = 500
    idle_s: float = 1.0
    max_backoff_s: float = 30.0
    failures: int = 0
    name: str = ""

    def __post_init__(self):
        self.name = self.name or self.group

    def run(self, stop: threading.Event | None = None, until_idle: bool = False,
            max_batches: int | None = None) -> None:
        stop = stop or threading.Event()
        consumer = self.bus.consumer(self.topic, self.group)
        batches = 0
        try:
            while not stop.is_set() and (max_batches is None or batches < max_batches):
                try:
                    batch = consumer.poll(max_records=self.batch_size, timeout_s=self.idle_s)
                    if not batch:
                        # Idle only counts once the group has handed this member its
                        # partitions; before that, an empty poll says nothing.
                        if until_idle and consumer.assigned():
                            return
                        continue
                    with metrics.BATCH_SECONDS.labels(self.name).time():
                        self.step(batch)
                    consumer.commit()  # only after the step's output is durable
                    lag = consumer.lag()
                    if lag is not None:
                        metrics.LAG.labels(self.name).set(lag)
                    batches += 1
                    self.failures = 0
                except BackendUnavailable as exc:
                    self.failures += 1
                    metrics.BACKEND_ERRORS.labels(self.name).inc()
                    wait = min(self.max_backoff_s, 0.5 * 2 ** min(self.failures, 10))
                    wait *= random.uniform(0.5, 1.0)
                    log.warning("%s: %s; retrying in %.1fs", self.group, exc, wait)
                    consumer.close()
                    if stop.wait(wait):
                        return
                    consumer = self.bus.consumer(self.topic, self.group)
        finally:
            consumer.close()


def _run_step(bus: Bus, name: str, step: Step, group: str | None, max_batches: int | None,
              idle_s: float) -> None:
    topic, default_group = STEPS[name]
    Worker(bus, topic, group or default_group, step, idle_s=idle_s, name=name).run(
        until_idle=True, max_batches=max_batches)


def classify(bus: Bus, scorer: Scorer, group: str | None = None, max_batches: int | None = None,
             idle_s: float = 1.0, stories=None) -> StepCount:
    """Score ``articles.raw`` until no record arrives for ``idle_s`` (the demo and tests)."""
    count = StepCount()
    _run_step(bus, "classify", classify_step(bus, scorer, count, stories), group, max_batches,
              idle_s)
    return count


def index_scored(bus: Bus, index: Index, group: str | None = None,
                 max_batches: int | None = None, idle_s: float = 1.0) -> StepCount:
    """Index ``articles.scored`` until no record arrives for ``idle_s``."""
    count = StepCount()
    _run_step(bus, "index", index_step(bus, index, count), group, max_batches, idle_s)
    return count


def alert(bus: Bus, min_level: int = 1, group: str | None = None,
          max_batches: int | None = None, idle_s: float = 1.0) -> StepCount:
    """Queue alerts from ``articles.scored`` until no record arrives for ``idle_s``."""
    count = StepCount()
    _run_step(bus, "alert", alert_step(bus, count, min_level), group, max_batches, idle_s)
    return count
