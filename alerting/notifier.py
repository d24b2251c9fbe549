"""Who hears of an alert: the offices' routes in ``alerting.yaml`` turned into outbox rows.

A message about an alert goes to the alert's office (and, from 较大 up, to the coordinating office),
or to the offices named, over the channels their routes give for the alert's level; 重大 items,
escalations and proposals go to the coordinating group's channels too. The rows are written in the
transaction of the action that caused them (:mod:`alerting.outbox` delivers them), so an action
retried after a crash queues nothing twice.

A message is urgent (never held by quiet hours or a digest, retried at the short pace) when a
clock is running on it: its own (a reminder, a warning's verification, a task) or any of its
alert's; and for 重大 and 紧急 items always.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import outbox
from alerting.config import AlertingConfig
from alerting.people import Roster
from alerting.store.models import Alert, Deadline

__all__ = ["Notifier"]


class Notifier:
    """Queue messages about alerts for the offices, by the routes of ``config.notify``."""

    def __init__(self, config: AlertingConfig):
        self.config = config
        self.roster = Roster(config.people, config.duty)

    def channels_for(self, offices: Iterable[str], level: int | None) -> dict[str, list[str]]:
        """Channels by mode for messages to ``offices`` (level None: any level, immediately)."""
        by_mode: dict[str, list[str]] = {"immediate": [], "digest": []}
        offices = set(offices)
        for r in self.config.notify.routes:
            if r.offices and not offices & set(r.offices):
                continue
            if level is None:
                by_mode["immediate"] += r.channels
            elif r.min_level <= level <= r.max_level:
                # digests are for level 1 only: anything higher goes out at once
                by_mode[r.mode if level <= 1 else "immediate"] += r.channels
        return by_mode

    def notify(self, session: Session, alert: Alert, key: str, subject: str, body: str, now: datetime,
               offices: Iterable[str] | None = None, leader: bool = False, urgent: bool | None = None,
               any_level: bool = False, deadline: Deadline | None = None,
               expires_at: datetime | None = None, people: Iterable[str] = ()) -> None:
        """Queue one message about ``alert`` under the unique ``key``.

        ``offices`` defaults to the alert's office (with the coordinating office from 较大 up);
        ``leader`` copies the coordinating group; ``urgent`` defaults to whether a clock is running on
        the message (see the module docstring); ``any_level`` routes as if every level applied
        (reminders, tasks, warnings). ``deadline`` is the clock the message is about: it is
        withdrawn when that is met or void; ``expires_at`` withdraws it from that moment.
        ``people`` (责任人, an office's head) also get it on their own channels (``people`` in
        alerting.yaml), at once.
        """
        targets = set(offices) if offices is not None else {alert.office}
        if offices is None and alert.level >= 2:
            targets.add(self.config.coordinating_office)
        if urgent is None:
            urgent = deadline is not None or self.clock_running(session, alert)
        for mode, channels in self.channels_for(targets, None if any_level else alert.level).items():
            if channels:
                outbox.queue(session, self.config.notify, key=key, channels=channels, subject=subject,
                             body=body, level=alert.level, now=now, alert_id=alert.id, mode=mode, urgent=urgent,
                             deadline_id=deadline.id if deadline is not None else None, expires_at=expires_at)
        personal = [c for name in dict.fromkeys(people) if name for c in self.roster.channels_of(name)]
        if personal:
            outbox.queue(session, self.config.notify, key=key + ":people", channels=personal, subject=subject,
                         body=body, level=alert.level, now=now, alert_id=alert.id, urgent=urgent,
                         deadline_id=deadline.id if deadline is not None else None, expires_at=expires_at)
        if leader and self.config.notify.leader_channels:
            outbox.queue(session, self.config.notify, key=key + ":leader",
                         channels=self.config.notify.leader_channels, subject=subject, body=body,
                         level=alert.level, now=now, alert_id=alert.id, urgent=True)

    @staticmethod
    def clock_running(session: Session, alert: Alert) -> bool:
        """Whether messages about ``alert`` are urgent: 重大 or 紧急, or one of its deadlines open."""
        if alert.level >= 3 or alert.emergency:
            return True
        return session.execute(select(Deadline.id).where(
            Deadline.alert_id == alert.id, Deadline.status == "open").limit(1)).first() is not None
