"""Move records along the bus: publish articles, classify them, index them.

Each step reads a batch from its topic, handles every record, writes what it produced (the next
topic, the index) and only then commits its offsets: a crash anywhere in between redelivers the
batch, and because ids are content hashes the redelivery changes nothing. A record that cannot be
handled goes to ``deadletter`` with the reason and where it came from; the batch goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Protocol

from pipeline import bus as topics
from pipeline.bus import Bus, Message
from pipeline.errors import Drop, Quarantine, RecordError
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
    for message in batch:
        count.read += 1
        try:
            handle(message)
        except Drop as signal:
            count.dropped[signal.reason] = count.dropped.get(signal.reason, 0) + 1
        except (Quarantine, RecordError) as exc:
            log.warning("%s: %s: %s", stage, message.where, exc)
            bus.publish(topics.DEADLETTER, dead_letter(stage, message.where, str(exc), message.value),
                        key=message.key)
            count.dead += 1


def classify(bus: Bus, scorer: Scorer, group: str = "classify", max_batches: int | None = None,
             idle_s: float = 1.0) -> StepCount:
    """Score ``articles.raw`` into ``articles.scored`` until no record arrives for ``idle_s``.

    A batch is decoded first (unreadable records are dead-lettered), then scored in one call; if
    that call fails, its articles are scored one by one so only the poison one is dead-lettered.
    """
    count = StepCount()
    consumer = bus.consumer(topics.RAW, group)

    def step(batch: list[Message]) -> None:
        decoded: list[tuple[Message, Article]] = []

        def keep(message: Message) -> None:
            decoded.append((message, decode(message.value, message.where, expect=Article)))

        _handle_batch(bus, "classify", batch, keep, count)
        try:
            results = scorer.score_many([a for _, a in decoded])
        except Exception:
            log.exception("classify: batch scoring failed; scoring one by one")
            results = None
        for i, (message, article) in enumerate(decoded):
            if results is not None:
                scored = results[i]
            else:
                try:
                    scored = scorer.score(article)
                except Exception as exc:
                    bus.publish(topics.DEADLETTER, dead_letter(
                        "classify", message.where, f"{type(exc).__name__}: {exc}", message.value),
                        key=message.key)
                    count.dead += 1
                    continue
            bus.publish(topics.SCORED, encode(scored), key=message.key)
            count.written += 1
        bus.flush()

    try:
        _drain(consumer, step, max_batches, idle_s)
    finally:
        consumer.close()
    return count


def index_scored(bus: Bus, index: Index, group: str = "index", max_batches: int | None = None,
                 idle_s: float = 1.0) -> StepCount:
    """Index ``articles.scored`` until no record arrives for ``idle_s``; refusals are dead-lettered."""
    count = StepCount()
    consumer = bus.consumer(topics.SCORED, group)
    origins: dict[str, Message] = {}

    def handle(message: Message) -> None:
        scored = decode(message.value, message.where, expect=ScoredArticle)
        index.add(scored)
        origins[scored.id] = message

    def step(batch: list[Message]) -> None:
        origins.clear()
        _handle_batch(bus, "index", batch, handle, count)
        rejected = index.flush()
        for refusal in rejected:
            message = origins[refusal.id]
            bus.publish(topics.DEADLETTER,
                        dead_letter("index", message.where, refusal.reason, message.value),
                        key=message.key)
        count.dead += len(rejected)
        count.written += len(origins) - len(rejected)
        bus.flush()

    try:
        _drain(consumer, step, max_batches, idle_s)
    finally:
        consumer.close()
    return count


def _drain(consumer, step: Callable[[list[Message]], object], max_batches: int | None,
           idle_s: float) -> None:
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = consumer.poll(max_records=500, timeout_s=idle_s)
        if not batch:
            return
        step(batch)
        consumer.commit()  # only after the step's output is durable: at-least-once
        batches += 1
