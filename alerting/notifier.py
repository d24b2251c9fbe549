"""Who hears of an alert: the offices' routes in ``alerting.yaml`` turned into outbox rows.

A message about an alert goes to the alert's office (and, from 较大 up, to the coordinating office),
or to the offices named, over the channels their routes give for the alert's level; 重大 items,
escalations and proposals go to the leading group's channels too. The rows are written in the
transaction of the action that caused them (:mod:`alerting.outbox` delivers them), so an action
retried after a crash queues nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from alerting import outbox
from alerting.config import AlertingConfig
from alerting.store.models import Alert

__all__ = ["Notifier"]


class Notifier:
    """Queue messages about alerts for the offices, by the routes of ``config.notify``."""

    def __init__(self, config: AlertingConfig):
        self.config = config

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
               any_level: bool = False) -> None:
        """Queue one message about ``alert`` under the unique ``key``.

        ``offices`` defaults to the alert's office (with the coordinating office from 较大 up);
        ``leader`` copies the leading group; ``urgent`` (default: 重大 or 紧急) is never held by
        quiet hours; ``any_level`` routes as if every level applied (reminders, tasks, warnings).
        """
        targets = set(offices) if offices is not None else {alert.office}
        if offices is None and alert.level >= 2:
            targets.add(self.config.coordinating_office)
        urgent = alert.level >= 3 or alert.emergency if urgent is None else urgent
        for mode, channels in self.channels_for(targets, None if any_level else alert.level).items():
            if channels:
                outbox.queue(session, self.config.notify, key=key, channels=channels, subject=subject,
                             body=body, level=alert.level, now=now, alert_id=alert.id, mode=mode, urgent=urgent)
        if leader and self.config.notify.leader_channels:
            outbox.queue(session, self.config.notify, key=key + ":leader",
                         channels=self.config.notify.leader_channels, subject=subject, body=body,
                         level=alert.level, now=now, alert_id=alert.id, urgent=True)
