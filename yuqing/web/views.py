"""What the pages and the JSON API show, read through the alert service as the logged-in user.

Every read starts from :class:`alerting.service.AlertService` with the user's Actor (``list``,
``show``, ``open_deadlines``), so another office's alert never reaches this module. The one query
the service has no method for, the tasks of an office (:func:`tasks_for`), joins through the
service's own visibility filter rather than restating the rule.

The functions return plain dicts (JSON-ready: times as ISO strings in UTC) that the templates
and the API share; :mod:`yuqing.web.schemas` describes them for the OpenAPI document.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select

from alerting import deadlines
from alerting.access import Actor
from alerting.config import STATE_LABELS, TASK_LABELS, Jurisdiction
from alerting.handling import describe
from alerting.locality import LOCALITY_LABELS, clocked
from alerting.messages import time_left
from alerting.queries import HISTORY_WORDS
from alerting.reviews import REVIEW_LABELS, file_time, review_state
from alerting.routing import LEVEL_NAMES
from alerting.store.models import Alert, Deadline, Task
from alerting.workflow import OPEN_STATES, TASK_KIND_WORDS, TRANSITIONS
from pipeline.records import SHANGHAI
from yuqing.web import operations

__all__ = ["queue", "alert_row", "alert_detail", "tasks_for", "overview", "iso", "bj", "briefing_rows",
           "available_actions", "coordinates", "deadline_dict", "overdue", "LEVEL_NAMES", "STATE_LABELS"]

#: actions that are not state transitions, offered in every open state
_ANYTIME = ("assign", "consult", "report", "receipt", "handle", "escalate")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def bj(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """Beijing time, as the offices read it, whatever the server's zone."""
    return moment.astimezone(SHANGHAI).strftime(fmt) if moment else "—"


def coordinates(service, actor: Actor) -> bool:
    """Whether the service treats ``actor`` as the coordinating office (only to choose which
    buttons to show; the service checks again when one is pressed)."""
    return service.coordinates(actor)


def available_actions(service, actor: Actor, alert: Alert, *, dismissal_waiting: bool = False,
                      reports_owed: bool = False) -> list[str]:
    """The actions worth offering on ``alert`` to ``actor``, in workflow order (the 组长 also gets
    the decision on a waiting dismissal and the exemption of an owed upward report)."""
    if actor.role not in ("staff", "leader", "admin"):
        return []
    leads = actor.role in ("leader", "admin")
    decisions = (["dismiss_approve", "dismiss_return"] if leads and dismissal_waiting else []) + \
        (["exempt"] if leads and reports_owed else [])
    moves = [a for a in TRANSITIONS[alert.state] if a != "verify"]
    if dismissal_waiting:  # one request at a time: the 组长 decides it first
        moves = [a for a in moves if a != "dismiss"]
    if not coordinates(service, actor):
        own = ["handle"] if alert.state in OPEN_STATES and actor.office == alert.office else []
        return (["ack"] if alert.state in OPEN_STATES and alert.acked_at is None else []) + own
    if actor.role not in ("leader", "admin", "system"):
        moves = [a for a in moves if a != "approve"]
    anytime = [a for a in _ANYTIME if alert.state in OPEN_STATES]
    ack = ["ack"] if alert.state in OPEN_STATES and alert.acked_at is None else []
    return ack + decisions + moves + anytime


def deadline_dict(d: Deadline | None, now: datetime | None = None, alert_state: str | None = None) -> dict | None:
    """A deadline for the pages and the API. ``owed``: its work is still to be done (running, or
    missed and not made up since); given ``now``, ``overdue`` and ``left`` (``剩23分``,
    ``超时1小时5分``) say how it stands, so a missed one shows how late it is."""
    if d is None:
        return None
    owed = deadlines.owed(d, alert_state)
    return {"id": d.id, "label": d.label, "kind": d.kind, "office": d.office, "person": d.person,
            "due": iso(d.due_at),
            "status": d.status, "status_label": deadlines.STATUS_LABELS.get(d.status, d.status), "done": iso(d.done_at),
            "owed": owed, "overdue": bool(owed and now is not None and d.due_at < now),
            "left": time_left(d.due_at, now) if owed and now is not None else None}


def alert_row(alert: Alert, deadline: Deadline | None = None, now: datetime | None = None,
              jurisdiction: Jurisdiction | None = None) -> dict:
    """An alert as the pages and the API show it. With ``jurisdiction``, ``reference`` says a
    重大 or 可能影响全局 item from elsewhere whose clocks do not run (参考)."""
    locality = alert.locality or "unknown"
    return {
        "locality": locality, "locality_label": LOCALITY_LABELS[locality],
        "reference": bool(jurisdiction is not None and (alert.level >= 3 or alert.overall)
                          and not clocked(locality, jurisdiction)),
        "id": alert.id, "title": alert.title, "level": alert.level, "level_name": LEVEL_NAMES[alert.level],
        "state": alert.state, "state_label": STATE_LABELS[alert.state], "office": alert.office,
        "emergency": alert.emergency, "overall": alert.overall, "trigger": alert.trigger,
        "articles": alert.articles, "sources": len(alert.sources or []), "reposts": max(0, alert.articles - 1),
        "first_seen": iso(alert.first_seen), "last_seen": iso(alert.last_seen), "first_source": alert.first_source,
        "url": alert.url, "acked_by": alert.acked_by, "warned_offices": list(alert.warned_offices or []),
        "updated_at": iso(alert.updated_at), "deadline": deadline_dict(deadline, now, alert.state),
    }


def queue(service, actor: Actor, states=None, office: str | None = None, min_level: int = 1) -> list[dict]:
    """The alerts ``actor`` may see, most urgent first, each with its nearest deadline owed (a
    missed one, with how late it is, before one still running)."""
    now = service.clock.now()
    return [alert_row(a, d, now, service.config.jurisdiction)
            for a, d in service.queue(actor, states=states, office=office or None, min_level=min_level)]


def _task(task: Task, alert_title: str = "") -> dict:
    return {"id": task.id, "alert_id": task.alert_id, "alert_title": alert_title, "kind": task.kind,
            "kind_label": TASK_KIND_WORDS.get(task.kind, "会商任务"), "title": task.title,
            "office": task.office, "person": task.person, "due": iso(task.due_at), "state": task.state,
            "state_label": TASK_LABELS.get(task.state, task.state), "result": task.result,
            "done": iso(task.done_at)}


def alert_detail(service, actor: Actor, alert_id: str, acts: bool = True) -> dict:
    """One alert with its articles, deadlines, tasks, reports, messages and history; ``acts``
    False (an analyst, an operator: they read only) offers no action, form or task."""
    detail = service.show(alert_id, actor)
    a = detail.alert
    now = service.clock.now()
    owed = [d for d in detail.deadlines if deadlines.owed(d, a.state)]
    row = alert_row(a, min(owed, key=lambda d: d.due_at) if owed else None, now, service.config.jurisdiction)
    row.update(
        summary=a.summary, level_reasons=list(a.level_reasons or []), matched_rules=list(a.matched_rules or []),
        explanation=list(a.explanation or []), dismiss_reason=a.dismiss_reason, relevance=a.relevance,
        sensitivity=a.sensitivity, source_ids=list(a.sources or []),
        articles_list=[{"article_id": x.article_id, "source_id": x.source_id, "url": x.url, "title": x.title,
                        "level": x.level, "published": iso(x.published), "seen_at": iso(x.seen_at)}
                       for x in detail.articles],
        deadlines=[deadline_dict(d, now, a.state) for d in detail.deadlines],
        tasks=[_task(t, a.title) for t in detail.tasks],
        reports=[{"recipient": r.recipient, "note": r.note, "actor": r.actor, "at": iso(r.at),
                  "skip_reason": r.skip_reason, "received_by": r.received_by, "received_via": r.received_via,
                  "received_at": iso(r.received_at)} for r in detail.reports],
        handlings=[{"kind": h.kind, "text": h.text, "link": h.link, "office": h.office, "partner": h.partner,
                    "task_id": h.task_id, "actor": h.actor, "at": iso(h.at), "line": describe(h)}
                   for h in detail.handlings],
        special_reports=[{"kind": (e.after or {}).get("special_kind"), "number": (e.after or {}).get("number"),
                          "at": iso(e.at), "actor": e.actor, "files": sorted((e.after or {}).get("files") or {})}
                         for e in detail.history if e.action == "special_report"],
        may_report_special=coordinates(service, actor) and a.state != "dismissed",
        notifications=[{"channel": n.channel, "status": n.status, "attempts": n.attempts, "error": n.last_error,
                        "subject": n.subject} for n in detail.notifications],
        history=[{"seq": e.seq, "at": iso(e.at), "actor": e.actor, "action": e.action,
                  "label": HISTORY_WORDS.get(e.action, e.action), "note": (e.after or {}).get("note", ""),
                  "state": (e.after or {}).get("state")} for e in detail.history],
        actions=available_actions(
            service, actor, a, dismissal_waiting=any(d.state == "proposed" for d in detail.dismissals),
            reports_owed=any(d.kind in ("major", "overall") and d.status != "void" and d.done_at is None
                             and d.exempted_at is None for d in detail.deadlines)),
        dismissals=[{"state": d.state, "reason": d.reason, "proposed_by": d.proposed_by,
                     "proposed_at": iso(d.proposed_at), "decided_by": d.decided_by,
                     "decided_at": iso(d.decided_at), "note": d.note} for d in detail.dismissals],
        petitions=[{"id": p.id, "channel": p.channel, "received_at": iso(p.received_at), "summary": p.summary,
                    "named": p.named, "recorded_by": p.recorded_by} for p in detail.petitions],
        may_record_petition=actor.office == "信访室" or coordinates(service, actor),
        my_tasks=[t.id for t in detail.tasks if t.state == "open"
                  and (t.office == actor.office or coordinates(service, actor))],
    )
    if not acts:
        row.update(actions=[], may_report_special=False, may_record_petition=False, my_tasks=[])
    return row


def tasks_for(service, actor: Actor, include_done: bool = True) -> list[dict]:
    """Tasks of the actor's office (every office's, for the coordinating office and leaders),
    open ones first by due time, on alerts the actor may see."""
    with service.store.session() as session:
        query = select(Task, Alert.title).join(Alert, Alert.id == Task.alert_id)
        if not coordinates(service, actor):
            query = query.where(Task.office == actor.office)
        visible = service.visible_filter(actor)
        if visible is not None:
            query = query.where(visible)
        if not include_done:
            query = query.where(Task.state == "open")
        rows = session.execute(query.order_by(Task.due_at)).all()
    tasks = [_task(t, title) for t, title in rows]
    done = sorted((t for t in tasks if t["state"] != "open"), key=lambda t: t["done"] or "", reverse=True)
    return [t for t in tasks if t["state"] == "open"] + done


def overdue(service, actor: Actor) -> list[dict]:
    """Deadlines past due whose work is not done: still open, or missed (escalated) and not made
    since, on open alerts the actor may see; the oldest first."""
    now = service.clock.now()
    with service.store.session() as session:
        query = (select(Deadline, Alert).join(Alert, Alert.id == Deadline.alert_id)
                 .where(Alert.state.in_(OPEN_STATES), Deadline.done_at.is_(None),
                        or_(and_(Deadline.status == "open", Deadline.due_at <= now), Deadline.status == "missed"))
                 .order_by(Deadline.due_at))
        visible = service.visible_filter(actor)
        if visible is not None:
            query = query.where(visible)
        rows = session.execute(query).all()
    return [{"deadline": deadline_dict(d, now, a.state), "alert": alert_row(a, now=now)} for d, a in rows]


def briefing_rows(service, folder: Path | None) -> list[dict]:
    """The briefings in ``folder``, newest first, each with its review: ``state`` pending (待审批),
    approved or returned (the rule is :func:`alerting.reviews.review_state`), and who made the
    last decision, when, with what note (kept when a new version makes it pending again)."""
    rows = operations.briefings(folder)
    reviews = service.briefing_reviews([r["name"] for r in rows]) if rows else {}
    for row in rows:
        review = reviews.get(row["name"])
        state = review_state(review, file_time(row["modified"]))
        row["review"] = {"state": state, "state_label": REVIEW_LABELS[state],
                         "last": review.state if review else None, "by": review.actor if review else None,
                         "at": iso(review.at) if review else None, "note": review.note if review else ""}
    return rows


def overview(service, actor: Actor, briefings: Path | None = None) -> dict:
    """The coordinating group's page: open 重大 items, overdue and coming deadlines, proposals to approve,
    and, given the briefings folder, the latest briefings and those waiting for approval."""
    now = service.clock.now()
    rows = queue(service, actor)
    coming = [{"deadline": deadline_dict(d, now, a.state), "alert": alert_row(a, now=now)}
              for d, a in service.open_deadlines(actor) if d.due_at > now]
    papers = briefing_rows(service, briefings)
    return {
        "now": iso(now),
        "major": [r for r in rows if r["level"] >= 3],
        "proposed": [r for r in rows if r["state"] == "proposed"],
        "overdue": overdue(service, actor),
        "upcoming": coming[:10],
        "open_count": len(rows),
        "by_state": dict(Counter(r["state_label"] for r in rows)),
        "by_level": dict(Counter(r["level_name"] for r in rows)),
        "tasks_open": len(tasks_for(service, actor, include_done=False)),
        "briefings": papers[:5],
        "briefings_pending": [b for b in papers if b["review"]["state"] == "pending"],
        "dismissals": [{"alert": alert_row(a), "reason": d.reason, "proposed_by": d.proposed_by,
                        "proposed_at": iso(d.proposed_at)} for d, a in service.waiting_dismissals(actor)],
    }
