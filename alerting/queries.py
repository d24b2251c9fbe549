"""Reading the alerts: the queue, one alert in full, the open deadlines — each as the actor may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import func, select

from alerting import audit
from alerting.access import Access, Actor
from alerting.store import Store
from alerting.store.models import (
    Alert, AlertArticle, AuditEntry, Deadline, Dismissal, Notification, Report, Task,
)
from alerting.workflow import OPEN_STATES

__all__ = ["Queries", "AlertDetail"]


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


class Queries:
    """Read-only views of the store; NotFound for an alert the actor may not see."""

    def __init__(self, store: Store, access: Access):
        self.store = store
        self.access = access

    def list(self, actor: Actor, states: Iterable[str] | None = None, office: str | None = None,
             min_level: int = 1, limit: int = 200) -> list[Alert]:
        """Alerts the actor may see, most urgent first: level, then the nearest open deadline."""
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
            due = dict(session.execute(
                select(Deadline.alert_id, func.min(Deadline.due_at)).where(
                    Deadline.status == "open", Deadline.alert_id.in_([a.id for a in alerts]))
                .group_by(Deadline.alert_id)).all())
        far = datetime.max.replace(tzinfo=timezone.utc)
        return sorted(alerts, key=lambda a: (-a.level, due.get(a.id, far), -a.first_seen.timestamp()))

    def queue(self, actor: Actor, **filters) -> list[tuple[Alert, Deadline | None]]:
        """:meth:`list` with each alert's nearest open deadline (None when it has none)."""
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
            )

    def open_deadlines(self, actor: Actor) -> list[tuple[Deadline, Alert]]:
        with self.store.session() as session:
            query = (select(Deadline, Alert).join(Alert, Alert.id == Deadline.alert_id)
                     .where(Deadline.status == "open").order_by(Deadline.due_at))
            visible = self.access.visible_filter(actor)
            if visible is not None:
                query = query.where(visible)
            return [(d, a) for d, a in session.execute(query).all()]

    def verify_audit(self) -> tuple[int, list[audit.AuditProblem]]:
        with self.store.session() as session:
            return audit.verify(session)
