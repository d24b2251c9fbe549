"""The stream's last stage: alert-queue records become alerts, and a ticker keeps the clocks.

``intake_step`` reads the ``alerts`` topic (scored articles of level 1 and above) and hands each to
:meth:`AlertService.ingest`; when the database cannot be reached the batch is not committed and the
worker backs off and retries (ingest is idempotent, so redelivery changes nothing). ``Ticker``
calls :meth:`AlertService.tick` every few seconds so reminders, escalations and notifications go
out on time, in any number of processes (timers and outbox rows are claimed, never fired twice).
"""

from __future__ import annotations

import logging
import random
import threading

from sqlalchemy.exc import OperationalError

from alerting.service import AlertService
from pipeline.bus import Bus, Message
from pipeline.errors import BackendUnavailable
from pipeline.flow import STEPS, Step, StepCount, Worker, _dead, _handle_batch
from pipeline.records import ScoredArticle, decode

__all__ = ["intake_step", "take_in", "Ticker"]

log = logging.getLogger(__name__)


def intake_step(bus: Bus, service: AlertService, count: StepCount) -> Step:
    """Take a batch of the alert queue into the database in one transaction; a record that cannot
    be read or taken in goes to ``deadletter`` with the reason, the rest are kept."""

    def step(batch: list[Message]) -> None:
        decoded: list[tuple[Message, ScoredArticle]] = []

        def keep(message: Message) -> None:
            decoded.append((message, decode(message.value, message.where, expect=ScoredArticle)))

        _handle_batch(bus, "intake", batch, keep, count)
        try:
            outcomes = service.ingest_many([article for _, article in decoded])
        except OperationalError as exc:
            raise BackendUnavailable(f"alert store: {str(exc.orig or exc).splitlines()[0]}") from None
        for (message, _), outcome in zip(decoded, outcomes):
            if isinstance(outcome, Exception):
                log.warning("intake: %s: %s", message.where, outcome)
                _dead(bus, "intake", message, f"{type(outcome).__name__}: {outcome}", count)
            elif outcome is not None:
                count.written += 1
        bus.flush()  # dead letters, if any

    return step


def take_in(bus: Bus, service: AlertService, idle_s: float = 1.0) -> StepCount:
    """Take in the alert queue until no record arrives for ``idle_s`` (the demo and tests)."""
    count = StepCount()
    topic, group = STEPS["intake"]
    Worker(bus, topic, group, intake_step(bus, service, count), idle_s=idle_s, name="intake").run(
        until_idle=True)
    return count


class Ticker:
    """Run ``service.tick()`` every ``interval_s`` until ``stop`` is set; a database outage is
    logged and retried with backoff, never fatal."""

    def __init__(self, service: AlertService, interval_s: float = 5.0, max_backoff_s: float = 60.0,
                 jobs: list | None = None):
        self.service = service
        #: more work on the same beat, called with the current time (scheduled briefings)
        self.jobs = list(jobs or [])
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                report = self.service.tick()
                if report.reminders or report.escalations or report.sent or report.failed:
                    log.info("tick reminders=%d escalations=%d sent=%d failed=%d", report.reminders,
                             report.escalations, report.sent, report.failed)
                for job in self.jobs:
                    try:
                        job(self.service.clock.now())
                    except OperationalError:
                        raise
                    except Exception:  # one failing job (a briefing) must not stop the clocks
                        log.exception("tick job %r failed; trying again next tick", job)
                self.failures = 0
                wait = self.interval_s
            except OperationalError as exc:
                self.failures += 1
                wait = min(self.max_backoff_s, 2 ** self.failures) * random.uniform(0.5, 1.0)
                log.warning("tick: alert store unavailable (%s); retrying in %.0fs",
                            str(exc.orig or exc).splitlines()[0], wait)
            stop.wait(wait)
