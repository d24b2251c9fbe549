"""The alert service: one place through which every change to an alert goes.

The stream (``ingest``), the command line and the web console all call this class, so every
action is checked the same way (who may see and do what, which transition is legal) and recorded
the same way (one audit entry in the same transaction as the change). Time comes from a
:class:`~alerting.clock.Clock`; ``tick()`` fires due reminders and escalations and delivers the
outbox, and is safe to call from several processes.

Workflow (研判预警 and 即时会商, from the commission's rules)::

    new ─judge→ judged ─warn→ warned ─(first office reports)→ verifying ─deep_judge→ deep_judged
        ─propose→ proposed ─approve→ handling ─close→ closed
    any state before ``proposed`` ─dismiss(reason)→ dismissed (a false alarm; feeds training)

Upward reports (``report``) and consultations (``consult``) may happen in any open state: the
1-hour and 2-hour clocks run from the moment yuqing first saw the story, whatever the workflow.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from alerting import audit, deadlines, messages, outbox
from alerting.clock import Clock, SystemClock
from alerting.config import AlertingConfig
from alerting.errors import Forbidden, NotFound, UnknownOffice
from alerting.notify.base import Channel
from alerting.notify.channels import build_channels
from alerting.reviews import BriefingReviews
from alerting.routing import Routed, route, spread_level
from alerting.store import Store
from alerting.store.models import (
    Alert, AlertArticle, AuditEntry, Deadline, Notification, Report, Task,
)
from alerting.volume import Spike, observe
from alerting.workflow import OPEN_STATES, SYSTEM, TRANSITIONS, Actor, Workflow, snapshot as _snapshot
from pipeline import metrics
from pipeline.errors import Quarantine
from pipeline.records import ScoredArticle

__all__ = ["AlertService", "Actor", "SYSTEM", "AlertDetail", "TRANSITIONS", "TickReport"]


log = logging.getLogger(__name__)


#: the width of the source columns (alert_articles.source_id, alerts.first_source)
SOURCE_ID_MAX = 200


@dataclass
class AlertDetail:
    alert: Alert
    articles: list[AlertArticle]
    deadlines: list[Deadline]
    tasks: list[Task]
    reports: list[Report]
    notifications: list[Notification]
    history: list[AuditEntry]


@dataclass
class TickReport:
    reminders: int = 0
    escalations: int = 0
    sent: int = 0
    failed: int = 0


FeedbackHook = Callable[[Alert, list[str], str, Actor], None]


class AlertService(Workflow, BriefingReviews):
    """See the module docstring. ``channels`` defaults to those built from ``config.notify``;
    ``on_dismiss(alert, article_ids, reason, actor)`` records a false alarm for training.
    The leading group's review of briefings (通报审批) comes from :mod:`alerting.reviews`."""

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock | None = None,
                 channels: dict[str, Channel] | None = None, on_dismiss: FeedbackHook | None = None):
        self.store = store
        self.config = config
        self.clock = clock or SystemClock()
        self._channels = channels
        self.on_dismiss = on_dismiss

    @property
    def channels(self) -> dict[str, Channel]:
        if self._channels is None:
            self._channels = build_channels(self.config.notify.channels)
        return self._channels

    # ---- who may do what -------------------------------------------------------------------

    def check_office(self, office: str) -> str:
        if office not in self.config.offices:
            raise UnknownOffice(f"{office!r} is not an office; use one of: {', '.join(self.config.offices)}")
        return office

    def coordinates(self, actor: Actor) -> bool:
        """Whether ``actor`` sees every alert and runs the workflow (协调小组办公室, 组长, admin)."""
        return actor.role in ("system", "admin", "leader") or actor.office == self.config.coordinating_office

    def _can_see(self, session: Session, actor: Actor, alert: Alert) -> bool:
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

    def _load(self, session: Session, alert_id: str, actor: Actor, lock: bool = False) -> Alert:
        query = select(Alert).where(Alert.id == alert_id)
        if lock:
            query = query.with_for_update()
        alert = session.execute(query).scalar_one_or_none()
        if alert is None or not self._can_see(session, actor, alert):
            # another office's alert is reported as absent: its existence is not theirs to know
            raise NotFound(f"no alert {alert_id!r}; list the open ones with: yuqing alerts list")
        return alert

    def _require_coordinator(self, actor: Actor, action: str) -> None:
        if not self.coordinates(actor):
            raise Forbidden(f"{actor.name} ({actor.office or 'no office'}) may not {action}: that is for "
                            f"{self.config.coordinating_office} (协调小组办公室) or the leading group")

    # ---- the stream ------------------------------------------------------------------------

    def ingest(self, article: ScoredArticle) -> str | None:
        """Open or update the alert of ``article``'s story; returns its id (None below level 1).

        Idempotent: an article already counted for its story changes nothing.
        """
        (outcome,) = self.ingest_many([article])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def ingest_many(self, articles: list[ScoredArticle]) -> list[str | None | Exception]:
        """:meth:`ingest` for a batch in one transaction (one commit, which is most of the cost).

        Each article runs in a savepoint: one that fails is rolled back alone and its exception
        is returned in its place, so the caller can set it aside while the others are kept.
        """
        now = self.clock.now()
        outcomes: list[str | None | Exception] = []
        with self.store.session() as session:
            for article in articles:
                try:
                    with session.begin_nested():
                        outcomes.append(self._ingest_one(session, article, now))
                except OperationalError:
                    raise  # the database itself is gone: the whole batch is retried
                except Exception as exc:  # noqa: BLE001 - handed back to the caller, per article
                    outcomes.append(exc)
        return outcomes

    def _ingest_one(self, session: Session, article: ScoredArticle, now: datetime) -> str | None:
        if len(article.source_id) > SOURCE_ID_MAX:
            raise Quarantine(f"source id of {len(article.source_id)} characters (at most {SOURCE_ID_MAX}): "
                             f"{article.source_id[:40]}...; fix the source's id in sources.yaml")
        routed = route(article, self.config)
        if routed.level < 1:
            return None
        story_key = article.story_id or f"article:{article.id}"
        alert = session.execute(select(Alert).where(Alert.story_key == story_key).with_for_update()
                                ).scalar_one_or_none()
        if alert is None:
            alert = self._open(session, story_key, "content", article, routed, now)
        elif session.get(AlertArticle, (alert.id, article.id)) is not None:
            return alert.id
        else:
            self._grow(session, alert, article, routed, now)
        for spike in observe(session, self.config.volume, f"{article.title}\n{article.content}", article.fetched):
            self._volume_alert(session, spike, article, now)
        return alert.id

    def _new_id(self, story_key: str) -> str:
        return "Y" + hashlib.sha1(story_key.encode("utf-8")).hexdigest()[:9].upper()

    def _attach(self, session: Session, alert: Alert, article: ScoredArticle, now: datetime) -> None:
        session.add(AlertArticle(alert_id=alert.id, article_id=article.id, source_id=article.source_id,
                                 url=article.url, title=article.title, level=article.level,
                                 published=article.published, seen_at=article.fetched))
        alert.articles += 1
        if article.source_id not in alert.sources:
            alert.sources = [*alert.sources, article.source_id]
        alert.last_seen = max(alert.last_seen, article.fetched)
        alert.updated_at = now
        session.flush()

    def _open(self, session: Session, story_key: str, trigger: str, article: ScoredArticle,
              routed, now: datetime, title: str | None = None) -> Alert:
        alert = Alert(id=self._new_id(story_key), story_key=story_key, trigger=trigger,
                      title=title or article.title or article.content[:40], url=article.url,
                      summary=article.content[:200], first_source=article.first_source or article.source_id,
                      first_seen=article.fetched, last_seen=article.fetched, level=routed.level,
                      level_reasons=list(routed.reasons), office=routed.office, state="new",
                      emergency=routed.emergency, overall=routed.overall, relevance=article.relevance,
                      sensitivity=article.sensitivity, articles=0, sources=[],
                      matched_rules=list(article.matched_rules), explanation=list(article.explanation),
                      warned_offices=[], created_at=now, updated_at=now)
        session.add(alert)
        session.flush()
        self._attach(session, alert, article, now)
        started = self._start_clocks(session, alert, now)
        metrics.ALERTS_OPENED.labels(trigger, str(alert.level)).inc()
        audit.append(session, now, SYSTEM.name, "open", alert.id, None,
                     {**_snapshot(alert), "trigger": trigger, "reasons": alert.level_reasons,
                      "article": article.id, "deadlines": {d.key: d.due_at for d in started}})
        subject, body = messages.opened(alert, started, self.config.console_url)
        # 重大 items go to the leading group's head at once too: the 1-hour clock is theirs as well
        self._notify(session, alert, f"open:{alert.id}", subject, body, now, leader=alert.level >= 3)
        return alert

    def _grow(self, session: Session, alert: Alert, article: ScoredArticle, routed, now: datetime) -> None:
        self._attach(session, alert, article, now)
        old = alert.level
        why = []
        if routed.level > alert.level:
            alert.level = routed.level
            why += routed.reasons
        rules = [r for r in self.config.spread if r.raise_to > alert.level]
        spread = None
        if rules:  # one query counts the story's articles inside every rule's window
            at = article.fetched
            recent = session.execute(select(*[
                func.coalesce(func.sum(case((AlertArticle.seen_at.between(at - r.within, at), 1), else_=0)), 0)
                for r in rules]).where(AlertArticle.alert_id == alert.id)).one()
            spread = spread_level(rules, list(recent))
        if spread and spread[0] > alert.level:
            alert.level = spread[0]
            why.append(spread[1])
        for flag in ("emergency", "overall"):
            if getattr(routed, flag) and not getattr(alert, flag):
                setattr(alert, flag, True)
                why.append(next(r for r in routed.reasons if r.startswith("紧急" if flag == "emergency" else "可能影响全局")))
        if why and alert.state not in ("closed", "dismissed"):
            alert.level_reasons = [*alert.level_reasons, *why]
            before = {**_snapshot(alert), "level": old}
            started = self._start_clocks(session, alert, now)
            audit.append(session, now, SYSTEM.name, "raise", alert.id, before,
                         {**_snapshot(alert), "reasons": why, "articles": alert.articles})
            if alert.level > old:
                subject, body = messages.raised(alert, old, "；".join(why), self.config.console_url)
                self._notify(session, alert, f"raise:{alert.id}:{alert.level}", subject, body, now,
                             leader=alert.level >= 3)
            elif started:
                subject, body = messages.opened(alert, started, self.config.console_url)
                self._notify(session, alert, f"flag:{alert.id}:{alert.emergency}:{alert.overall}", subject, body, now)

    def _volume_alert(self, session: Session, spike: Spike, article: ScoredArticle, now: datetime) -> None:
        alert = session.execute(select(Alert).where(Alert.story_key == spike.story_key)).scalar_one_or_none()
        if alert is not None:
            if session.get(AlertArticle, (alert.id, article.id)) is None:
                self._attach(session, alert, article, now)
            return
        settings = self.config.volume
        routed = Routed(level=settings.level, office=settings.office,
                        reasons=[f"声量:{spike.name} {spike.count}篇/窗口，平时约{spike.usual:.1f}篇"])
        title = f"「{spike.name}」相关信息激增：近{int(settings.window.total_seconds() // 3600)}小时{spike.count}篇"
        self._open(session, spike.story_key, "volume", article, routed, now, title=title)

    def _start_clocks(self, session: Session, alert: Alert, now: datetime) -> list[Deadline]:
        """Open the upward-report deadlines the alert now falls under (idempotent)."""
        clocks = self.config.clocks
        started = []
        wanted = []
        if alert.level >= 3:
            wanted.append(("major", clocks.major))
        if alert.overall:
            wanted.append(("overall", clocks.overall))
        for kind, clock in wanted:
            due = alert.first_seen + clock.within
            if alert.emergency:
                due = min(due, now + clocks.emergency)
            started.append(deadlines.open_deadline(
                session, alert_id=alert.id, kind=kind, key=kind, label=clock.label,
                office=self.config.coordinating_office, due=due, now=now, reminders=clocks.reminders))
        return started

    # ---- notifications -----------------------------------------------------------------------

    def _office_channels(self, offices: Iterable[str], level: int | None) -> dict[str, list[str]]:
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

    def _notify(self, session: Session, alert: Alert, key: str, subject: str, body: str, now: datetime,
                offices: Iterable[str] | None = None, leader: bool = False, urgent: bool | None = None,
                any_level: bool = False) -> None:
        targets = set(offices) if offices is not None else {alert.office}
        if offices is None and alert.level >= 2:
            targets.add(self.config.coordinating_office)
        urgent = alert.level >= 3 or alert.emergency if urgent is None else urgent
        for mode, channels in self._office_channels(targets, None if any_level else alert.level).items():
            if channels:
                outbox.queue(session, self.config.notify, key=key, channels=channels, subject=subject,
                             body=body, level=alert.level, now=now, alert_id=alert.id, mode=mode, urgent=urgent)
        if leader and self.config.notify.leader_channels:
            outbox.queue(session, self.config.notify, key=key + ":leader",
                         channels=self.config.notify.leader_channels, subject=subject, body=body,
                         level=alert.level, now=now, alert_id=alert.id, urgent=True)

    # ---- reading ---------------------------------------------------------------------------

    def list(self, actor: Actor, states: Iterable[str] | None = None, office: str | None = None,
             min_level: int = 1, limit: int = 200) -> list[Alert]:
        """Alerts the actor may see, most urgent first: level, then the nearest open deadline."""
        states = tuple(states) if states is not None else OPEN_STATES
        with self.store.session() as session:
            query = select(Alert).where(Alert.state.in_(states), Alert.level >= min_level)
            if office:
                query = query.where(Alert.office == self.check_office(office))
            visible = self.visible_filter(actor)
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
            alert = self._load(session, alert_id, actor)

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
            )

    def open_deadlines(self, actor: Actor) -> list[tuple[Deadline, Alert]]:
        with self.store.session() as session:
            query = (select(Deadline, Alert).join(Alert, Alert.id == Deadline.alert_id)
                     .where(Deadline.status == "open").order_by(Deadline.due_at))
            visible = self.visible_filter(actor)
            if visible is not None:
                query = query.where(visible)
            return [(d, a) for d, a in session.execute(query).all()]

    def verify_audit(self) -> tuple[int, list[audit.AuditProblem]]:
        with self.store.session() as session:
            return audit.verify(session)

    # ---- time ------------------------------------------------------------------------------

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
            delivered = outbox.deliver_due(self.store, self.config.notify, self.channels, now)
            report.sent, report.failed = delivered.sent, delivered.failed
        return report

    def _fire(self, session: Session, timer, deadline: Deadline, now: datetime, report: TickReport) -> None:
        alert = session.get(Alert, deadline.alert_id)
        urgent = deadline.kind in ("major", "overall") or alert.level >= 3
        offices = {deadline.office, self.config.coordinating_office}
        if timer.kind == "escalate":
            if deadline.status != "open":
                return
            deadline.status, deadline.escalated_at = "missed", now
            metrics.DEADLINES_MISSED.labels(deadline.kind).inc()
            audit.append(session, now, SYSTEM.name, "deadline_missed", alert.id,
                         {"deadline": deadline.key, "status": "open"},
                         {"deadline": deadline.key, "label": deadline.label, "status": "missed",
                          "due": deadline.due_at, "office": deadline.office, "escalated_to": "组长"})
            subject, body = messages.escalation(alert, deadline, self.config.console_url)
            self._notify(session, alert, f"timer:{timer.id}", subject, body, now, offices=offices,
                         leader=True, urgent=True, any_level=True)
            report.escalations += 1
        else:
            if now >= deadline.due_at or deadline.status != "open":
                return  # fired late (the ticker was down): the escalation says it better
            audit.append(session, now, SYSTEM.name, "remind", alert.id, None,
                         {"deadline": deadline.key, "label": deadline.label, "timer": timer.kind,
                          "due": deadline.due_at, "office": deadline.office})
            subject, body = messages.reminder(alert, deadline, now, self.config.console_url)
            self._notify(session, alert, f"timer:{timer.id}", subject, body, now, offices=offices,
                         urgent=urgent, any_level=True)
            report.reminders += 1
