"""Dismissing a false alarm (排除误报) needs a second person when it matters.

One staff member must not make a 较大 or 重大 item disappear: for those (and for an item that was
ever one, though lowered since), a dismissal is a proposal (申请排除) that the 组长 approves
(同意排除: the alert is dismissed then) or returns with a note (退回); meanwhile the alert and its
clocks go on as before, and the 组长 is told at once. A 一般 item may be dismissed by its office
directly, and the 组长 may dismiss anything directly. Every dismissal, proposed, approved, returned
or direct, is a :class:`~alerting.store.models.Dismissal` row and an audit entry, and the next
briefing lists them all with who proposed, who decided, why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from alerting import messages
from alerting.access import Access, Actor
from alerting.clock import Clock
from alerting.config import AlertingConfig
from alerting.drills import real_alerts
from alerting.errors import IllegalTransition, NotFound
from alerting.notifier import Notifier
from alerting.store import Store
from alerting.store.models import Alert, AuditEntry, Dismissal
from alerting.workflow import Workflow

__all__ = ["Dismissals", "SECOND_PERSON_LEVEL", "decided_between", "highest_level"]

#: from this level up a dismissal is a proposal for the 组长
SECOND_PERSON_LEVEL = 2


class Dismissals:
    """Requests to dismiss, and the 组长's decisions on them. Every method raises the workflow's
    errors: Forbidden, NotFound, IllegalTransition (the alert can no longer be dismissed, a
    proposal is already waiting, a return without a note)."""

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock, access: Access,
                 notifier: Notifier, workflow: Workflow):
        self.store = store
        self.config = config
        self.clock = clock
        self.access = access
        self.notifier = notifier
        self.workflow = workflow

    def _leads(self, actor: Actor) -> bool:
        return actor.role in ("leader", "admin", "system")

    def request(self, alert_id: str, actor: Actor, reason: str) -> str:
        """``dismissed`` when it took effect at once, ``proposed`` when it waits for the 组长."""
        if not reason.strip():
            raise IllegalTransition("give the reason for dismissing (--reason): it is kept for accountability")
        with self.store.session() as session:
            level = highest_level(session, self.access.load(session, alert_id, actor))
        if level < SECOND_PERSON_LEVEL or self._leads(actor):
            with self.workflow.acting(alert_id, actor, "dismiss", "dismiss", note=reason) as a:
                if highest_level(a.session, a.alert) >= SECOND_PERSON_LEVEL and not self._leads(actor):
                    raise IllegalTransition(f"alert {alert_id} was raised meanwhile: ask again, it now "
                                            "needs the 组长")
                self.workflow.apply_dismissal(a, reason, actor)
                a.session.add(Dismissal(alert_id=alert_id, level=a.alert.level, reason=reason,
                                        proposed_by=actor.name, proposed_at=a.now, state="direct",
                                        decided_by=actor.name, decided_at=a.now, note=""))
                waiting = self._waiting(a.session, alert_id)
                if waiting is not None:  # the 组长 dismissed it directly: that decides the proposal too
                    waiting.state, waiting.decided_by, waiting.decided_at = "approved", actor.name, a.now
                    waiting.note = "组长直接排除"
            return "dismissed"
        with self.workflow.acting(alert_id, actor, "dismiss_propose", note=reason) as a:
            self.workflow.check_transition(a.alert, "dismiss")
            if self._waiting(a.session, alert_id) is not None:
                raise IllegalTransition(f"alert {alert_id}: a dismissal is already waiting for the 组长")
            a.session.add(Dismissal(alert_id=alert_id, level=a.alert.level, reason=reason, proposed_by=actor.name,
                                    proposed_at=a.now, state="proposed", note=""))
            subject, body = messages.dismissal_proposed(a.alert, actor.name, reason, self.config.console_url)
            self.notifier.notify(a.session, a.alert, f"dismiss_propose:{alert_id}:{a.now.isoformat()}",
                                 subject, body, a.now, offices=[], leader=True)
        return "proposed"

    def approve(self, alert_id: str, actor: Actor, note: str = "") -> str:
        """同意排除: the alert is dismissed now, with the proposer's reason."""
        self.access.require_leader(actor, "approve a dismissal")
        with self.workflow.acting(alert_id, actor, "dismiss_approve", "dismiss", note=note) as a:
            proposal = self._proposal(a.session, alert_id)
            self.workflow.apply_dismissal(a, proposal.reason, actor)
            proposal.state, proposal.decided_by, proposal.decided_at, proposal.note = "approved", actor.name, a.now, note
            a.extra.update(proposed_by=proposal.proposed_by, reason=proposal.reason)
        return alert_id

    def refuse(self, alert_id: str, actor: Actor, note: str) -> str:
        """退回: the alert stays as it is; ``note`` says why (required)."""
        self.access.require_leader(actor, "return a dismissal")
        if not note.strip():
            raise IllegalTransition("say why the dismissal is returned (--note): it goes back to the proposer")
        with self.workflow.acting(alert_id, actor, "dismiss_return", note=note) as a:
            proposal = self._proposal(a.session, alert_id)
            proposal.state, proposal.decided_by, proposal.decided_at, proposal.note = "returned", actor.name, a.now, note
            a.extra.update(proposed_by=proposal.proposed_by, reason=proposal.reason)
        return alert_id

    def waiting(self, actor: Actor) -> list[tuple[Dismissal, Alert]]:
        """Proposals waiting for the 组长, oldest first, among the alerts ``actor`` may see."""
        with self.store.session() as session:
            query = (select(Dismissal, Alert).join(Alert, Alert.id == Dismissal.alert_id)
                     .where(Dismissal.state == "proposed").order_by(Dismissal.proposed_at))
            visible = self.access.visible_filter(actor)
            if visible is not None:
                query = query.where(visible)
            return [(d, a) for d, a in session.execute(query).all()]

    @staticmethod
    def _waiting(session: Session, alert_id: str) -> Dismissal | None:
        return session.execute(select(Dismissal).where(Dismissal.alert_id == alert_id,
                                                       Dismissal.state == "proposed")).scalar_one_or_none()

    def _proposal(self, session: Session, alert_id: str) -> Dismissal:
        proposal = self._waiting(session, alert_id)
        if proposal is None:
            raise NotFound(f"alert {alert_id} has no dismissal waiting for a decision")
        return proposal


def highest_level(session: Session, alert: Alert) -> int:
    """The highest level ``alert`` has ever had, read from its audit entries: lowering a 较大 or
    重大 item at 初步研判 must not let one staff member dismiss it alone afterwards."""
    levels = [alert.level]
    for before, after in session.execute(select(AuditEntry.before, AuditEntry.after)
                                         .where(AuditEntry.alert_id == alert.id)).all():
        levels += [snap["level"] for snap in (before, after)
                   if isinstance(snap, dict) and isinstance(snap.get("level"), int)]
    return max(levels)


def decided_between(session: Session, start: datetime, end: datetime) -> list[Dismissal]:
    """Every dismissal proposed or decided in ``[start, end)`` of a real alert (a drill's are left
    out, as from every count of real work), for the briefing's 排除 list."""
    return list(session.execute(select(Dismissal).join(Alert, Alert.id == Dismissal.alert_id).where(
        real_alerts(), or_(and_(Dismissal.decided_at >= start, Dismissal.decided_at < end),
                           and_(Dismissal.proposed_at >= start, Dismissal.proposed_at < end)))
        .order_by(Dismissal.proposed_at)).scalars())
