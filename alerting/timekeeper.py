"""The clocks of the rules: which upward-report deadlines an alert falls under, and what happens
when their reminders and escalations fall due.

A 重大 item must be reported upward within 1 hour of being found, an item that may affect the
overall situation within 2 hours, an emergency at once (``clocks`` in ``alerting.yaml``).
:meth:`Timekeeper.start` opens those deadlines (idempotent: an earlier due time wins); a clock
the alert comes under only when it is raised later runs from the raise (``clocks.raised_from``),
so a story found to be 重大 late is not "missed" the moment it is found.
:meth:`Timekeeper.tick` fires every reminder and escalation that is due, each in the transaction
that marks its timer fired (so several tick processes never fire one twice), then delivers the
outbox. :class:`Ticker` calls ``tick`` every few seconds; a database outage is retried, never fatal.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from alerting import audit, deadlines, messages, outbox
from alerting.access import SYSTEM
from alerting.clock import Clock
from alerting.config import AlertingConfig
from alerting.locality import clocked
from alerting.notifier import Notifier
from alerting.people import Roster
from alerting.notify.base import Channel
from alerting.notify.channels import build_channels
from alerting.store import Store
from alerting.store.models import Alert, Deadline, Report, Timer
from pipeline import metrics

__all__ = ["Timekeeper", "TickReport", "Ticker"]

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick did: reminders and escalations fired, messages sent and failed."""

    reminders: int = 0
    escalations: int = 0
    sent: int = 0
    failed: int = 0


class Timekeeper:
    """Start the upward-report clocks of alerts; fire their timers; deliver the outbox.

    ``channels`` (name → channel) default to those built from ``config.notify`` when first needed.
    """

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock, notifier: Notifier,
                 channels: dict[str, Channel] | None = None):
        self.store = store
        self.config = config
        self.clock = clock
        self.notifier = notifier
        self.roster = Roster(config.people, config.duty)
        self._channels = channels

    @property
    def channels(self) -> dict[str, Channel]:
        if self._channels is None:
            self._channels = build_channels(self.config.notify.channels)
        return self._channels

    def start(self, session: Session, alert: Alert, now: datetime,
              raised_at: datetime | None = None) -> list[Deadline]:
        """Open the upward-report deadlines the alert now falls under (idempotent) and return them.

        ``raised_at`` is when a raise (spread, a judgement) brought the alert under clocks it did
        not have when it opened; None when it opens.
        """
        clocks = self.config.clocks
        started = []
        wanted = []
        if not clocked(alert.locality, self.config.jurisdiction):
            return started  # another place's item: shown for reference (参考), nobody's clock
        if alert.level >= 3:
            wanted.append(("major", clocks.major))
        if alert.overall:
            wanted.append(("overall", clocks.overall))
        for kind, clock in wanted:
            due = clocks.due(clock.within, alert.first_seen, raised_at)
            if alert.emergency:
                due = min(due, now + clocks.emergency)
            office = self.config.coordinating_office
            started.append(deadlines.open_deadline(
                session, alert_id=alert.id, kind=kind, key=kind, label=clock.label, office=office, due=due,
                now=now, reminders=clocks.reminders, person=self.roster.responsible(office, now)))
        return [d for d in started if self.close_if_reported(session, d) is None]

    def close_if_reported(self, session: Session, deadline: Deadline) -> str | None:
        """A report clock is met once each of its recipients has a report: record it done at the
        last of those reports and return its status (``met``, or ``missed`` made up late); None
        while a recipient still waits. Reports made before a raise brought the alert under the
        clock count as well."""
        if deadline.status == "void" or deadline.done_at is not None:
            return None
        wanted = set(self.config.clocks.upward(deadline.kind).recipients)
        made = dict(session.execute(select(Report.recipient, func.max(Report.at)).where(
            Report.alert_id == deadline.alert_id, Report.recipient.in_(wanted)).group_by(Report.recipient)).all())
        if set(made) != wanted:
            return None
        return deadlines.close_deadline(session, deadline, max(made.values()))

    def found_earlier(self, session: Session, alert: Alert, was_first_seen: datetime, now: datetime) -> None:
        """The alert's first sighting moved from ``was_first_seen`` to ``alert.first_seen`` (an
        earlier article came late): the report clocks that ran from the first sighting run from the
        new one. A clock that ran from a raise or was cut short as urgent keeps its time."""
        clocks = self.config.clocks
        for deadline in session.execute(select(Deadline).where(
                Deadline.alert_id == alert.id, Deadline.kind.in_(("major", "overall")),
                Deadline.status == "open")).scalars().all():
            within = clocks.upward(deadline.kind).within
            if deadline.due_at == was_first_seen + within:
                deadlines.open_deadline(session, alert_id=alert.id, kind=deadline.kind, key=deadline.key,
                                        label=deadline.label, office=deadline.office,
                                        due=alert.first_seen + within, now=now, reminders=clocks.reminders)

    def tick(self, deliver: bool = True) -> TickReport:
        """Fire every reminder and escalation that is due, then deliver the outbox."""
        report = TickReport()
        now = self.clock.now()
        while True:
            with self.store.session() as session:
                due = deadlines.due_timers(session, now)
                for timer, deadline in due:
                    if not deadlines.claim(session, timer, now):
                        continue
                    self._fire(session, timer, deadline, now, report)
            if len(due) < 100:
                break
        if deliver:
            delivered = outbox.deliver_due(self.store, self.config.notify, self.channels, self.clock,
                                           self.config.console_url)
            report.sent, report.failed = delivered.sent, delivered.failed
        return report

    def _fire(self, session: Session, timer: Timer, deadline: Deadline, now: datetime,
              report: TickReport) -> None:
        alert = session.get(Alert, deadline.alert_id)
        offices = {deadline.office, self.config.coordinating_office}
        if timer.kind == "escalate" and deadline.kind == "receipt":
            self._chase_receipt(session, timer, deadline, alert, now, report)
        elif timer.kind == "escalate":
            if deadline.status != "open":
                return
            self._miss(session, timer, deadline, alert, now)
            report.escalations += 1
        else:
            if now >= deadline.due_at or deadline.status != "open":
                return  # fired late (the ticker was down): the escalation says it better
            audit.append(session, now, SYSTEM.name, "remind", alert.id, None,
                         {"deadline": deadline.key, "label": deadline.label, "timer": timer.kind,
                          "due": deadline.due_at, "office": deadline.office})
            subject, body = messages.reminder(alert, deadline, now, self.config.console_url)
            # its clock is running: urgent whatever the level, and moot once the deadline passes
            self.notifier.notify(session, alert, f"timer:{timer.id}", subject, body, now, offices=offices,
                                 any_level=True, deadline=deadline, expires_at=deadline.due_at,
                                 people=[deadline.person])
            report.reminders += 1

    def settle_overdue(self, session: Session, deadline: Deadline, now: datetime) -> bool:
        """Before a running deadline is voided or exempted: if its time has already passed, it is
        missed, with the escalation the ticker would have sent, and True is returned. Whether the
        ticker fired first or not must not decide whether a lapse is on record: voiding an overdue
        deadline would take it out of 迟报漏报情况."""
        if deadline.status != "open" or deadline.kind == "receipt" or now < deadline.due_at:
            return False
        timer = session.execute(select(Timer).where(
            Timer.deadline_id == deadline.id, Timer.kind == "escalate")).scalar_one_or_none()
        if timer is None or not deadlines.claim(session, timer, now):
            return False  # no escalation to fire, or a ticker is firing it now
        self._miss(session, timer, deadline, session.get(Alert, deadline.alert_id), now)
        return True

    def _miss(self, session: Session, timer: Timer, deadline: Deadline, alert: Alert, now: datetime) -> None:
        """The deadline passed with the work undone: missed, handed to whoever was on duty when it
        fell due, and escalated to the 组长 and the office's head."""
        offices = {deadline.office, self.config.coordinating_office}
        deadline.status, deadline.escalated_at = "missed", now
        if deadline.task_id is None:  # a duty the roster assigns: whoever was on duty when it fell due
            deadlines.hand_over(session, deadline, self.roster.responsible(deadline.office, deadline.due_at),
                                deadline.due_at, "due")
        head = self.roster.head(deadline.office)
        metrics.DEADLINES_MISSED.labels(deadline.kind).inc()
        audit.append(session, now, SYSTEM.name, "deadline_missed", alert.id,
                     {"deadline": deadline.key, "status": "open"},
                     {"deadline": deadline.key, "label": deadline.label, "status": "missed",
                      "due": deadline.due_at, "office": deadline.office, "person": deadline.person,
                      "escalated_to": ["组长", *([head.name] if head else [])]})
        subject, body = messages.escalation(alert, deadline, self.config.console_url)
        self.notifier.notify(session, alert, f"timer:{timer.id}", subject, body, now, offices=offices,
                             leader=True, urgent=True, any_level=True,
                             people=[deadline.person, head.name if head else ""])

    def _chase_receipt(self, session: Session, timer: Timer, deadline: Deadline, alert: Alert, now: datetime,
                       report: TickReport) -> None:
        """A report's receipt is still unconfirmed at its time: remind the coordinating office to
        get it confirmed. The deadline stays open (owed) until it is; confirming it late is recorded
        as late, but the other unit's silence is not escalated as our lapse."""
        if deadline.status != "open":
            return
        audit.append(session, now, SYSTEM.name, "remind", alert.id, None,
                     {"deadline": deadline.key, "label": deadline.label, "timer": "receipt",
                      "due": deadline.due_at, "office": deadline.office})
        subject, body = messages.receipt_unconfirmed(alert, deadline, self.config.console_url)
        self.notifier.notify(session, alert, f"timer:{timer.id}", subject, body, now,
                             offices=[self.config.coordinating_office], any_level=True, deadline=deadline,
                             people=[deadline.person])
        report.reminders += 1


class Ticker:
    """Call ``tick()`` every ``interval_s`` until ``stop`` is set; a database outage is logged and
    retried with backoff, never fatal. ``jobs`` run on the same beat with the current time (the
    scheduled briefings); one that fails is logged and tried again next tick."""

    def __init__(self, timekeeper, interval_s: float = 5.0, max_backoff_s: float = 60.0,
                 jobs: list[Callable[[datetime], object]] | None = None):
        # anything with tick() and clock: the Timekeeper, or the AlertService in front of it
        self.timekeeper = timekeeper
        self.jobs = list(jobs or [])
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                report = self.timekeeper.tick()
                if report.reminders or report.escalations or report.sent or report.failed:
                    log.info("tick reminders=%d escalations=%d sent=%d failed=%d", report.reminders,
                             report.escalations, report.sent, report.failed)
                for job in self.jobs:
                    try:
                        job(self.timekeeper.clock.now())
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
