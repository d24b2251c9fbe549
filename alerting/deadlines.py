"""Deadlines and the timers that remind before them and escalate when they pass.

A deadline (an upward report under the 1-hour or 2-hour rule, an office's verification, a
consultation task) gets one timer per reminder (``remind:30`` = 30 minutes before) and one
``escalate`` timer at the deadline. :func:`due_timers` hands out timers that are due and unfired;
the caller marks each fired in the same transaction in which it queues the timer's messages, so a
crash or restart neither loses a reminder nor sends it twice. Work done before the deadline cancels
the timers still waiting; work done after it leaves the deadline ``missed`` (a late report stays
late in the record).

A deadline is *owed* (:func:`owed`, :func:`owed_clause`) from when it opens until the work it asks
for is done: a missed one stays owed, and on show in the queue with how late it is, until the
report is made or the task finished; only a void one (or one of a dismissed false alarm) is not.
The receipt (回执) of a report is chased (alerting.chain) but never owed: the report was made.
Messages about a deadline (its reminders, the warning or task that opened it) are withdrawn when it
is met or void: a reminder of work already done is noise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from alerting.store.models import Alert, Deadline, DeadlineOwner, Notification, Timer

__all__ = ["open_deadline", "hand_over", "close_deadline", "void_deadline", "due_timers", "claim",
           "time_left", "owed", "owed_clause", "STATUS_LABELS"]

#: a deadline's status as the offices read it (console, command line)
STATUS_LABELS = {"open": "进行中", "met": "按时完成", "missed": "已超时", "void": "已撤销"}


def owed(deadline: Deadline, alert_state: str | None = None) -> bool:
    """Whether the work ``deadline`` asks for is still to be done (running, or missed and not yet
    made up); ``alert_state`` ``dismissed`` releases a missed one: a false alarm owes no report."""
    if deadline.kind == "receipt":
        return False  # a receipt is chased (alerting.chain), not owed: the work, the report, is done
    if deadline.done_at is not None or deadline.exempted_at is not None:
        return False  # made, or the 组长 let it go unmade (it stays missed in the record)
    return deadline.status == "open" or (deadline.status == "missed" and alert_state != "dismissed")


def owed_clause() -> ColumnElement[bool]:
    """:func:`owed` as SQL, for a query that joins :class:`Alert` to :class:`Deadline`."""
    return and_(Deadline.kind != "receipt", Deadline.done_at.is_(None), Deadline.exempted_at.is_(None),
                or_(Deadline.status == "open", and_(Deadline.status == "missed", Alert.state != "dismissed")))


def _withdraw_messages(session: Session, deadline: Deadline) -> None:
    session.execute(update(Notification).where(
        Notification.deadline_id == deadline.id, Notification.status.in_(("pending", "digest"))
    ).values(status="withdrawn"))


def open_deadline(session: Session, *, alert_id: str, kind: str, key: str, label: str, office: str,
                  due: datetime, now: datetime, reminders: list[timedelta],
                  task_id: int | None = None, person: str = "") -> Deadline:
    """Create the deadline ``key`` of an alert with its timers, or return it if it exists (an earlier
    due time wins: an item marked urgent later never gets more time). A void one (the level was
    lowered, and is raised again) opens again with ``due``."""
    deadline = session.execute(
        select(Deadline).where(Deadline.alert_id == alert_id, Deadline.key == key)
    ).scalar_one_or_none()
    if deadline is not None:
        if deadline.status == "void":
            deadline.status, deadline.due_at, deadline.done_at = "open", due, None
            deadline.exempted_by = deadline.exempted_at = deadline.exempt_reason = None
            _timers(session, deadline, now, reminders, replace=True)
        elif deadline.status == "open" and due < deadline.due_at:
            deadline.due_at = due
            session.execute(update(Timer).where(Timer.deadline_id == deadline.id, Timer.fired_at.is_(None))
                            .values(cancelled=True))
            _timers(session, deadline, now, reminders, replace=True)
        return deadline
    deadline = Deadline(alert_id=alert_id, kind=kind, key=key, label=label, office=office,
                        due_at=due, status="open", task_id=task_id, person=person)
    session.add(deadline)
    session.flush()
    session.add(DeadlineOwner(deadline_id=deadline.id, office=office, person=person, since=now, why="opened"))
    _timers(session, deadline, now, reminders)
    return deadline


def hand_over(session: Session, deadline: Deadline, person: str, since: datetime, why: str) -> bool:
    """Record that ``person`` (of the deadline's office) owns ``deadline`` from ``since``; False
    when they already did."""
    if person == deadline.person:
        return False
    deadline.person = person
    session.add(DeadlineOwner(deadline_id=deadline.id, office=deadline.office, person=person, since=since,
                              why=why))
    return True


def _timers(session: Session, deadline: Deadline, now: datetime, reminders: list[timedelta],
            replace: bool = False) -> None:
    wanted = {f"remind:{int(r.total_seconds() // 60)}": deadline.due_at - r for r in reminders}
    # a reminder whose moment has already passed would only repeat the alert that is going out now
    wanted = {kind: at for kind, at in wanted.items() if at > now}
    wanted["escalate"] = deadline.due_at
    existing = {t.kind: t for t in session.execute(
        select(Timer).where(Timer.deadline_id == deadline.id)).scalars()} if replace else {}
    for kind, at in wanted.items():
        timer = existing.get(kind)
        if timer is None:
            session.add(Timer(deadline_id=deadline.id, kind=kind, fire_at=at, cancelled=False))
        elif timer.fired_at is None:
            timer.fire_at, timer.cancelled = at, False
    session.flush()


def close_deadline(session: Session, deadline: Deadline, now: datetime) -> str:
    """Record the work as done at ``now``; returns the final status, ``met`` or ``missed``."""
    if deadline.status == "open":
        deadline.status = "met" if now <= deadline.due_at else "missed"
    deadline.done_at = deadline.done_at or now
    session.execute(update(Timer).where(Timer.deadline_id == deadline.id, Timer.fired_at.is_(None))
                    .values(cancelled=True))
    _withdraw_messages(session, deadline)
    return deadline.status


def void_deadline(session: Session, deadline: Deadline) -> None:
    """The deadline no longer applies (false alarm, level lowered): it and its timers stop."""
    deadline.status = "void"
    session.execute(update(Timer).where(Timer.deadline_id == deadline.id, Timer.fired_at.is_(None))
                    .values(cancelled=True))
    _withdraw_messages(session, deadline)


def due_timers(session: Session, now: datetime, limit: int = 100) -> list[tuple[Timer, Deadline]]:
    """Timers due at ``now`` and not yet fired, oldest first, locked against other tickers."""
    query = (select(Timer, Deadline).join(Deadline, Deadline.id == Timer.deadline_id)
             .where(Timer.fired_at.is_(None), Timer.cancelled.is_(False), Timer.fire_at <= now)
             .order_by(Timer.fire_at, Timer.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Timer, skip_locked=True)
    return [(timer, deadline) for timer, deadline in session.execute(query).all()]


def claim(session: Session, timer: Timer, now: datetime) -> bool:
    """Mark ``timer`` fired; False when another ticker fired it first (then do nothing)."""
    result = session.execute(update(Timer).where(Timer.id == timer.id, Timer.fired_at.is_(None))
                             .values(fired_at=now))
    return result.rowcount == 1


def time_left(deadline: Deadline, now: datetime) -> timedelta:
    return deadline.due_at - now
