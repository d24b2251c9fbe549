"""The step runner: read a batch from a topic, handle every record, make the output durable, commit.

A step is a function over one batch of messages (:data:`Step`). :class:`Worker` drives it: it
polls the step's input topic, calls the step, and commits its offsets only after the step
returned, so a crash anywhere in between redelivers the batch; because ids are content hashes the
redelivery changes nothing. Inside a step, :func:`handle_batch` calls a handler per record and
keeps the promise of :mod:`pipeline.errors`: a :class:`Drop` is counted, anything else raised over
one record sends that record to ``deadletter`` (:func:`dead_letter`) and the batch goes on; only
:class:`BackendUnavailable` stops the batch, uncommitted, for the worker to back off and retry.

The steps of the spine live here (``index_step``, ``alert_step``); the classify step is
:func:`classifiers.stage.classify_step`, the alert intake :func:`alerting.intake.intake_step`.
Which step reads which topic is declared once, in the application (:mod:`yuqing.app`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

from pipeline import bus as topics
from pipeline import metrics
from pipeline.bus import Bus, Message
from pipeline.errors import BackendUnavailable, Drop, Quarantine, YuqingError
from pipeline.index import Index
from pipeline.records import Article, ScoredArticle, decode, encode

__all__ = ["Step", "StepCount", "Worker", "handle_batch", "count_drop", "dead_letter", "dead_letter_record",
           "reason_of", "publish_articles", "index_step", "alert_step", "drain"]

log = logging.getLogger(__name__)

#: a step: handles one batch and returns once everything it produced is durable
Step = Callable[[list[Message]], None]

#: what our own errors and signals say explains itself; anything else is logged with its traceback
_EXPECTED = (Quarantine, YuqingError)


@dataclass
class StepCount:
    """What one step did: records read, written, dropped (by reason) and dead-lettered."""

    read: int = 0
    written: int = 0
    dead: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def dead_letter_record(stage: str, origin: str, reason: str, value: bytes) -> bytes:
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


def dead_letter(bus: Bus, stage: str, message: Message, reason: str, count: StepCount) -> None:
    """Publish ``message`` to ``deadletter`` with ``reason`` and count it (the caller flushes)."""
    bus.publish(topics.DEADLETTER, dead_letter_record(stage, message.where, reason, message.value),
                key=message.key)
    count.dead += 1
    metrics.DEADLETTERED.labels(stage).inc()


def count_drop(stage: str, reason: str, count: StepCount) -> None:
    """Count a record dropped on purpose (a :class:`Drop`, or a step's own decision) under
    ``reason``."""
    count.dropped[reason] = count.dropped.get(reason, 0) + 1
    metrics.DROPPED.labels(stage, reason).inc()


def handle_batch(bus: Bus, stage: str, batch: list[Message], handle: Callable[[Message], None],
                 count: StepCount) -> None:
    """Call ``handle`` on every message of ``batch``; one message's failure never stops the rest.

    A :class:`Drop` is counted under its reason. BackendUnavailable propagates: the batch is not
    committed and the worker retries it. Anything else (Quarantine, RecordError, and any other
    exception: a bug, a record built to exhaust the decoder) dead-letters that message alone with
    the reason; an exception that is not ours is logged with its traceback.
    """
    metrics.CONSUMED.labels(stage).inc(len(batch))
    for message in batch:
        count.read += 1
        try:
            handle(message)
        except Drop as signal:
            count_drop(stage, signal.reason, count)
        except BackendUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the promise of pipeline.errors: quarantine it
            log.warning("%s: %s: %s", stage, message.where, exc,
                        exc_info=not isinstance(exc, _EXPECTED))
            dead_letter(bus, stage, message, reason_of(exc), count)


def reason_of(exc: BaseException) -> str:
    """What a dead letter says about ``exc``: our own errors' messages as they are, anything else
    with its type, so an operator can tell a bug from a bad record."""
    if isinstance(exc, _EXPECTED):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__


def publish_articles(bus: Bus, articles: Iterable[Article]) -> int:
    """Publish articles to ``articles.raw`` keyed by their canonical URL; returns how many."""
    n = 0
    for article in articles:
        bus.publish(topics.RAW, encode(article), key=article.key())
        n += 1
    bus.flush()
    return n


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

        handle_batch(bus, "index", batch, handle, count)
        rejected = index.flush()
        for refusal in rejected:
            dead_letter(bus, "index", origins[refusal.id], refusal.reason, count)
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
        handle_batch(bus, "alert", batch, handle, count)
        bus.flush()
        now = datetime.now(timezone.utc)
        metrics.PRODUCED.labels("alert").inc(len(queued))
        for fetched in queued:
            metrics.FETCH_TO_ALERT.observe(max(0.0, (now - fetched).total_seconds()))

    return step


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


def drain(bus: Bus, topic: str, group: str, step: Step, name: str, idle_s: float = 1.0,
          max_batches: int | None = None) -> None:
    """Run ``step`` over ``topic`` until no record arrives for ``idle_s`` (batch jobs, the demo,
    tests); a deployment runs :meth:`Worker.run` until stopped instead."""
    Worker(bus, topic, group, step, idle_s=idle_s, name=name).run(until_idle=True,
                                                                   max_batches=max_batches)
