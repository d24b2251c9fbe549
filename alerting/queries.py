"""Reading the alerts: the queue, one alert in full, the deadlines still owed — each as the actor may
see it. A deadline is shown until its work is done (:func:`alerting.deadlines.owed`): a missed
one stays in the queue, the deadlines list and the alert, with how late it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import func, select

from alerting import audit, deadlines
from alerting.access import Access, Actor
from alerting.handling import HandlingLine, handlings_of
from alerting.store import Store
from alerting.store.models import (
    Alert, AlertArticle, AuditEntry, Deadline, Dismissal, Notification, Petition, Report, Task,
)
from alerting.locality import RANK
from alerting.workflow import ACTION_WORDS, OPEN_STATES

__all__ = ["Queries", "AlertDetail", "HISTORY_WORDS"]

#: the audit log's actions as the offices read them: the workflow's, the stream's and the clocks'
HISTORY_WORDS = {**ACTION_WORDS, "open": "发现并立项", "raise": "自动升级", "locate": "属地更新", "remind": "时限提醒",
                 "deadline_missed": "超时，报组长"}


@dataclass
class AlertDetail:
    """One alert with everything recorded about it, oldest first."""

    alert: Alert
    articles: list[AlertArticle]
    deadlines: list[Deadline]
    tasks: list[Task]
    reports: list[Report]
    notifications: list[Notification]
    history: list[AuditEntry]
    dismissals: list[Dismissal]
    #: 信访室's letters, visits, calls and online reports linked to it
    petitions: list[Petition] = field(default_factory=list)
    #: 舆情处置 records (alerting.handling)
    handlings: list[HandlingLine] = field(default_factory=list)


class Queries:
    """Read-only views of the store; NotFound for an alert the actor may not see."""

    def __init__(self, store: Store, access: Access):
        self.store = store
        self.access = access

    def list(self, actor: Actor, states: Iterable[str] | None = None, office: str | None = None,
             min_level: int = 1, limit: int = 200) -> list[Alert]:
        """Alerts the actor may see, most urgent first: the commission's own (local, or naming no
        place) before the city's and province's and those from elsewhere; then level, local
        before unknown, then the nearest deadline owed (a missed one first). At most ``limit``
        of them, the highest levels and newest, and besides those every one that owes a deadline."""
        states = tuple(states) if states is not None else OPEN_STATES
        with self.store.session() as session:
            query = select(Alert).where(Alert.state.in_(states), Alert.level >= min_level)
            if office:
                query = query.where(Alert.office == self.access.check_office(office))
            visible = self.access.visible_filter(actor)
            if visible is not None:
                query = query.where(visible)
            alerts = session.execute(query.order_by(Alert.level.desc(), Alert.first_seen.desc())
                                     .limit(limit)).scalars().all()
            # an alert that owes a deadline is in whatever the limit: 200 newer items must not push
            # a missed report out of the queue
            owing = select(Deadline.alert_id).join(Alert, Alert.id == Deadline.alert_id).where(deadlines.owed_clause())
            shown = {a.id for a in alerts}
            alerts += [a for a in session.execute(query.where(Alert.id.in_(owing))).scalars().all()
                       if a.id not in shown]
            due = dict(session.execute(
                select(Deadline.alert_id, func.min(Deadline.due_at)).join(Alert, Alert.id == Deadline.alert_id)
                .where(deadlines.owed_clause(), Deadline.alert_id.in_([a.id for a in alerts]))
                .group_by(Deadline.alert_id)).all())
        far = datetime.max.replace(tzinfo=timezone.utc)
        rank = {"local": 0, "unknown": 0, "region": 1, "elsewhere": 2}
        return sorted(alerts, key=lambda a: (rank.get(a.locality, 0), -a.level, RANK.get(a.locality, 1),
                                             due.get(a.id, far), -a.first_seen.timestamp()))

    def queue(self, actor: Actor, **filters) -> list[tuple[Alert, Deadline | None]]:
        """:meth:`list` with each alert's nearest deadline owed, missed or running (None when it
        owes none)."""
        alerts = self.list(actor, **filters)
        nearest: dict[str, Deadline] = {}
        for deadline, alert in self.open_deadlines(actor):
            nearest.setdefault(alert.id, deadline)
        return [(alert, nearest.get(alert.id)) for alert in alerts]

    def show(self, alert_id: str, actor: Actor) -> AlertDetail:
        with self.store.session() as session:
            alert = self.access.load(session, alert_id, actor)

            def rows(model, *order):
                return session.execute(select(model).where(model.alert_id == alert_id).order_by(*order)
                                       ).scalars().all()

            return AlertDetail(
                alert=alert,
                articles=rows(AlertArticle, AlertArticle.seen_at),
                deadlines=rows(Deadline, Deadline.due_at),
                tasks=rows(Task, Task.id),
                reports=rows(Report, Report.at),
                notifications=rows(Notification, Notification.id),
                history=rows(AuditEntry, AuditEntry.seq),
                dismissals=rows(Dismissal, Dismissal.proposed_at),
                petitions=rows(Petition, Petition.received_at, Petition.id),
                handlings=handlings_of(session, [alert_id]).get(alert_id, []),
            )

    def open_deadlines(self, actor: Actor) -> list[tuple[Deadline, Alert]]:
        """Deadlines whose work is not done, running or missed (the most overdue first), with
        their alerts."""
        with self.store.session() as session:
            query = (select(Deadline, Alert).join(Alert, Alert.id == Deadline.alert_id)
                     .where(deadlines.owed_clause()).order_by(Deadline.due_at, Deadline.id))
            visible = self.access.visible_filter(actor)
            if visible is not None:
                query = query.where(visible)
            return [(d, a) for d, a in session.execute(query).all()]

    def verify_audit(self) -> tuple[int, list[audit.AuditProblem]]:
        with self.store.session() as session:
            return audit.verify(session)

    def alerts_of(self, article_ids: Iterable[str]) -> list[Alert]:
        """The alerts the articles belong to (their story's, and any volume alert they count in)."""
        ids = list(dict.fromkeys(article_ids))
        found: dict[str, Alert] = {}
        with self.store.session() as session:
            for start in range(0, len(ids), 500):  # a bounded IN list, whatever the file's size
                chunk = ids[start:start + 500]
                for alert in session.execute(select(Alert).where(Alert.id.in_(
                        select(AlertArticle.alert_id).where(AlertArticle.article_id.in_(chunk))))).scalars():
                    found[alert.id] = alert
        return sorted(found.values(), key=lambda a: (a.created_at, a.id))
