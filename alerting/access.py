"""Who acts, and what they may see and do: the one place where the workflow's permissions are decided.

The rules give the coordinating group's office (协调小组办公室, in 宣传部) the whole picture and the
workflow; every other office sees the alerts routed to it, warned to it or tasked to it; the
coordinating group's head (组长) decides proposals and briefings. Every action of the service asks
:class:`Access` before it changes anything, so the command line and the console are held to the
same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerting.config import AlertingConfig
from alerting.errors import Forbidden, NotFound, UnknownOffice
from alerting.store.models import Alert, Task

__all__ = ["Actor", "SYSTEM", "Access"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a person of an office, the coordinating group's head, an administrator, or yuqing."""

    name: str
    office: str = ""
    role: Literal["staff", "leader", "admin", "system"] = "staff"


#: yuqing itself: opening alerts, firing reminders and escalations
SYSTEM = Actor("yuqing", role="system")


class Access:
    """The permission checks; each raises :class:`Forbidden`, :class:`NotFound` or
    :class:`UnknownOffice` with a message that says who may do it instead."""

    def __init__(self, config: AlertingConfig):
        self.config = config

    def check_office(self, office: str) -> str:
        """``office`` when the configuration lists it; UnknownOffice naming the offices otherwise."""
        if office not in self.config.offices:
            raise UnknownOffice(f"{office!r} is not an office; use one of: {', '.join(self.config.offices)}")
        return office

    def coordinates(self, actor: Actor) -> bool:
        """Whether ``actor`` sees every alert and runs the workflow (协调小组办公室, 组长, admin)."""
        return actor.role in ("system", "admin", "leader") or actor.office == self.config.coordinating_office

    def can_see(self, session: Session, actor: Actor, alert: Alert) -> bool:
        if self.coordinates(actor) or actor.office in (alert.office, *(alert.warned_offices or [])):
            return True
        return session.execute(select(Task.id).where(Task.alert_id == alert.id, Task.office == actor.office)
                               ).first() is not None

    def visible_filter(self, actor: Actor):
        """A WHERE clause on :class:`Alert` for what ``actor`` may see (None: everything)."""
        if self.coordinates(actor):
            return None
        # an office warned about an alert has a verification task on it, so tasks cover warnings
        tasked = select(Task.alert_id).where(Task.office == actor.office)
        return or_(Alert.office == actor.office, Alert.id.in_(tasked))

    def load(self, session: Session, alert_id: str, actor: Actor, lock: bool = False) -> Alert:
        """The alert ``alert_id`` as ``actor`` may see it (locked for update with ``lock``)."""
        query = select(Alert).where(Alert.id == alert_id)
        if lock:
            query = query.with_for_update()
        alert = session.execute(query).scalar_one_or_none()
        if alert is None or not self.can_see(session, actor, alert):
            # another office's alert is reported as absent: its existence is not theirs to know
            raise NotFound(f"no alert {alert_id!r}; list the open ones with: yuqing alerts list")
        return alert

    def may_work_task(self, actor: Actor, task: Task | None) -> bool:
        """An office works its own tasks; the coordinating office may record any office's."""
        return task is not None and (task.office == actor.office or self.coordinates(actor))

    def require_coordinator(self, actor: Actor, action: str) -> None:
        if not self.coordinates(actor):
            raise Forbidden(f"{actor.name} ({actor.office or 'no office'}) may not {action}: that is for "
                            f"{self.config.coordinating_office} (协调小组办公室) or the coordinating group")

    def require_leader(self, actor: Actor, what: str) -> None:
        """The coordinating group's own decisions (组长): a leader, an administrator, or yuqing itself."""
        if actor.role not in ("leader", "admin", "system"):
            raise Forbidden(f"{actor.name} may not {what}: that is for the coordinating group (组长)")
