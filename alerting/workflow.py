"""The actions of the workflow (研判预警, 即时会商, upward reports), each one checked and recorded.

Every action loads the alert under a lock, asks :class:`alerting.access.Access` whether the actor
may see it and may do this, checks the transition against :data:`TRANSITIONS`, applies the change,
and appends one audit entry with the state before and after, all in one transaction.

Workflow (研判预警 and 即时会商, from the commission's rules)::

    new ─judge→ judged ─warn→ warned ─(first office reports)→ verifying ─deep_judge→ deep_judged
        ─propose→ proposed ─approve→ handling ─close→ closed
    any state before ``proposed`` ─dismiss(reason)→ dismissed (a false alarm; feeds training)

Upward reports (``report``, level by level with receipts: :mod:`alerting.chain`) and consultations (``consult``) may happen in any open state: the
1-hour and 2-hour clocks run from the moment yuqing first saw the story (or, for a clock a
judgement or escalation brings later, from then: ``clocks.raised_from``), whatever the workflow.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import audit, deadlines, messages
from alerting.access import Access, Actor
from alerting.clock import Clock
from alerting.config import STATE_LABELS, AlertingConfig
from alerting.errors import IllegalTransition, NotFound
from alerting.notifier import Notifier
from alerting.people import Roster
from alerting.store import Store
from alerting.store.models import Alert, AlertArticle, Deadline, Task
from alerting.timekeeper import Timekeeper

__all__ = ["TRANSITIONS", "OPEN_STATES", "ACTION_WORDS", "Workflow", "Acting", "TaskSpec", "FeedbackHook",
           "REPORT_KINDS", "TASK_KIND_WORDS"]

#: the deadlines of upward reports (上报): an alert is closed only once they are made or exempted
REPORT_KINDS = ("major", "overall")

TRANSITIONS: dict[str, dict[str, str]] = {
    # state: {action: next state}
    "new": {"judge": "judged", "dismiss": "dismissed"},
    "judged": {"warn": "warned", "dismiss": "dismissed"},
    "warned": {"verify": "verifying", "dismiss": "dismissed"},
    "verifying": {"deep_judge": "deep_judged", "dismiss": "dismissed"},
    "deep_judged": {"propose": "proposed", "dismiss": "dismissed"},
    "proposed": {"approve": "handling"},
    "handling": {"close": "closed"},
    "closed": {},
    "dismissed": {},
}
OPEN_STATES = tuple(s for s, moves in TRANSITIONS.items() if moves)

ACTION_WORDS = {
    "ack": "签收", "judge": "初步研判", "warn": "发布预警", "verify": "反馈核实", "deep_judge": "深度研判",
    "propose": "提出处置意见", "approve": "审定处置意见", "close": "办结", "dismiss": "排除误报",
    "report": "上报", "assign": "改派", "escalate": "升级", "consult": "即时会商", "task_done": "完成任务",
    "exempt": "免于上报", "hand_in": "部门报送", "petition": "信访登记", "drill_start": "开始演练",
    "dismiss_propose": "申请排除", "dismiss_approve": "同意排除", "dismiss_return": "退回排除申请",
    "receipt": "确认回执", "handle": "处置", "special_report": "制发专报",
}

#: what a task's deadline is called, by the task's kind
TASK_KIND_WORDS = {"verify": "核实", "consult": "会商任务", "clue": "线索签收"}

#: called with (alert, article ids, reason, actor) when an alert is dismissed as a false alarm
FeedbackHook = Callable[[Alert, list[str], str, Actor], None]


@dataclass(frozen=True)
class TaskSpec:
    """One task of an instant consultation: what, which office, which person, how long."""

    title: str
    office: str
    person: str = ""
    within: timedelta | None = None


@dataclass
class Acting:
    """What the body of an action works with; ``extra`` goes into the audit entry."""

    session: Session
    alert: Alert
    now: datetime
    extra: dict = field(default_factory=dict)


class Workflow:
    """The actions; see the module docstring. Methods return the alert id or the created ids.

    ``on_dismiss`` (a :data:`FeedbackHook`) records a false alarm's articles for training.
    """

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock, access: Access,
                 notifier: Notifier, timekeeper: Timekeeper, on_dismiss: FeedbackHook | None = None):
        self.store = store
        self.config = config
        self.clock = clock
        self.access = access
        self.notifier = notifier
        self.timekeeper = timekeeper
        self.roster = Roster(config.people, config.duty)
        self.on_dismiss = on_dismiss

    @contextmanager
    def acting(self, alert_id: str, actor, action: str, transition: str | None = None,
               coordinator: bool = True, note: str = "") -> Iterator[Acting]:
        """The frame of every action: the alert loaded under a lock as ``actor`` may see it, the
        coordinator rule and the transition checked, then (after the body) the state moved and one
        audit entry written with the state before and after, all in one transaction."""
        now = self.clock.now()
        with self.store.session() as session:
            alert = self.access.load(session, alert_id, actor, lock=True)
            if coordinator:
                self.access.require_coordinator(actor, ACTION_WORDS[action])
            if transition is not None:
                self.check_transition(alert, transition)
            before = audit.snapshot(alert)
            acting = Acting(session, alert, now)
            yield acting
            if transition is not None:
                alert.state = TRANSITIONS[before["state"]][transition]
            alert.updated_at = now
            after = {**audit.snapshot(alert), **acting.extra}
            if note:
                after["note"] = note
            audit.append(session, now, actor.name, action, alert.id, before, after)

    def check_transition(self, alert: Alert, action: str) -> None:
        moves = TRANSITIONS[alert.state]
        if action not in moves:
            possible = "、".join(f"{ACTION_WORDS[a]}({a})" for a in moves) or "无（已结束）"
            raise IllegalTransition(
                f"alert {alert.id} is {STATE_LABELS[alert.state]} ({alert.state}): cannot "
                f"{ACTION_WORDS[action]} ({action}) now; possible next steps: {possible}")

    # ---- actions any office may take on what it sees ------------------------------------------

    def ack(self, alert_id: str, actor) -> str:
        with self.acting(alert_id, actor, "ack", coordinator=False) as a:
            if a.alert.acked_at is None:
                a.alert.acked_by, a.alert.acked_at = actor.name, a.now
        return alert_id

    def complete_task(self, task_id: int, actor, result: str) -> str:
        """An office reports its verification (核实) or finishes a consultation task."""
        if not result.strip():
            raise IllegalTransition("say what was found or done (--result); an empty report is not a report")
        with self.store.session() as session:
            task = session.get(Task, task_id)
            alert_id = task.alert_id if task else None
            if not self.access.may_work_task(actor, task):
                raise NotFound(f"no task {task_id} of yours; list them with: yuqing alerts show ALERT_ID")
        action = "verify" if task.kind == "verify" else "task_done"
        with self.acting(alert_id, actor, action, coordinator=False) as a:
            task = a.session.get(Task, task_id)
            if task.state != "open":
                raise IllegalTransition(f"task {task_id} is already {task.state}")
            task.state, task.result, task.done_at = "done", result, a.now
            deadline = a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.key == f"task:{task_id}")).scalar_one_or_none()
            status = deadlines.close_deadline(a.session, deadline, a.now) if deadline else "met"
            a.extra.update(task=task_id, task_office=task.office, deadline=status, result=result)
            if task.kind == "verify" and a.alert.state == "warned":
                a.alert.state = TRANSITIONS["warned"]["verify"]
        return alert_id

    # ---- the coordinating office's steps -----------------------------------------------------

    def judge(self, alert_id: str, actor, note: str, level: int | None = None, office: str | None = None,
              overall: bool | None = None, emergency: bool | None = None) -> str:
        """初步研判: confirm or correct the level, the office and the urgency."""
        with self.acting(alert_id, actor, "judge", "judge", note=note) as a:
            self._apply_judgement(a, level, office, overall, emergency)
        return alert_id

    def _apply_judgement(self, a: Acting, level, office, overall, emergency) -> None:
        alert = a.alert
        if office is not None:
            alert.office = self.access.check_office(office)
        if overall is not None:
            alert.overall = overall
        if emergency is not None:
            alert.emergency = emergency
        if level is not None:
            if not 1 <= level <= 3:
                raise IllegalTransition(f"level {level} is not 1 (一般), 2 (较大) or 3 (重大)")
            alert.level = level
        started = self.timekeeper.start(a.session, alert, a.now, raised_at=a.now)
        # a clock that no longer applies (level lowered below 重大, or 全局 unset) stops; the audit
        # entry keeps who lowered it and when
        for kind, applies in (("major", alert.level >= 3), ("overall", alert.overall)):
            if not applies:
                deadline = a.session.execute(select(Deadline).where(
                    Deadline.alert_id == alert.id, Deadline.key == kind, Deadline.status == "open")).scalar_one_or_none()
                if deadline is not None:
                    ended = self._stop(a.session, deadline, a.now)
                    a.extra.setdefault("voided" if ended == "void" else "missed", []).append(kind)
        if started:
            a.extra["deadlines"] = {d.key: d.due_at for d in started}
            subject, body = messages.opened(alert, started, self.config.console_url)
            self.notifier.notify(a.session, alert, f"clock:{alert.id}:{alert.level}:{alert.overall}:{alert.emergency}",
                         subject, body, a.now)

    def escalate(self, alert_id: str, actor, note: str, level: int | None = None,
                 emergency: bool = False, overall: bool = False, local: bool = False) -> str:
        """Raise the level or mark the item urgent / of overall effect, in any open state;
        ``local``: the office knows the item is its own (属地) whatever places it names, so its
        clocks run from now."""
        with self.acting(alert_id, actor, "escalate", note=note) as a:
            self._require_open(a.alert, "escalate")
            if level is not None and level < a.alert.level:
                raise IllegalTransition(f"escalate raises a level; to lower it, judge it (now {a.alert.level})")
            if local and a.alert.locality != "local":
                a.extra["locality"] = {"from": a.alert.locality, "to": "local"}
                a.alert.locality = "local"
            self._apply_judgement(a, level, None, overall or None, emergency or None)
        return alert_id

    def _require_open(self, alert: Alert, action: str) -> None:
        if alert.state not in OPEN_STATES:
            raise IllegalTransition(f"alert {alert.id} is {STATE_LABELS[alert.state]}: cannot {ACTION_WORDS[action]}")

    def assign(self, alert_id: str, actor, office: str, note: str = "") -> str:
        with self.acting(alert_id, actor, "assign", note=note) as a:
            self._require_open(a.alert, "assign")
            a.alert.office = self.access.check_office(office)
            subject, body = messages.opened(a.alert, [], self.config.console_url)
            self.notifier.notify(a.session, a.alert, f"assign:{alert_id}:{office}:{a.now.isoformat()}",
                         "【改派】" + subject, body, a.now, offices=[office], any_level=True)
        return alert_id

    def warn(self, alert_id: str, actor, offices: list[str], note: str = "",
             within: timedelta | None = None) -> list[int]:
        """预警: warn the offices concerned; each must verify (核实) within the time limit."""
        if not offices:
            raise IllegalTransition("name at least one office to warn (--office 信访室)")
        within = within or self.config.clocks.verification
        created = []
        with self.acting(alert_id, actor, "warn", "warn", note=note) as a:
            for office in offices:
                self.access.check_office(office)
                task_id, deadline = self.open_task(a, "verify", f"核实：{a.alert.title}", office, "", a.now + within)
                created.append(task_id)
                subject, body = messages.warned(a.alert, office, a.now + within, note, self.config.console_url)
                self.notifier.notify(a.session, a.alert, f"warn:{alert_id}:{office}", subject, body, a.now,
                                     offices=[office], any_level=True, deadline=deadline)
            a.alert.warned_offices = sorted(set(a.alert.warned_offices) | set(offices))
            a.extra["tasks"] = created
        return created

    def open_task(self, a: Acting, kind: str, title: str, office: str, person: str,
                  due: datetime) -> tuple[int, Deadline]:
        """Inside an action's frame: a task (``verify``, ``consult``, or ``clue`` for a clue handed
        over) and its deadline; its 责任人 is ``person``, else who is on duty for ``office``."""
        person = self.roster.responsible(office, a.now, person)
        task = Task(alert_id=a.alert.id, kind=kind, title=title, office=office, person=person, due_at=due,
                    state="open", result="", created_by="", created_at=a.now)
        a.session.add(task)
        a.session.flush()
        deadline = deadlines.open_deadline(
            a.session, alert_id=a.alert.id, kind="task", key=f"task:{task.id}",
            label=TASK_KIND_WORDS.get(kind, "会商任务") + f"#{task.id}", office=office, due=due,
            now=a.now, reminders=self.config.clocks.reminders, task_id=task.id, person=person)
        return task.id, deadline

    def consult(self, alert_id: str, actor, tasks: list) -> list[int]:
        """即时会商: split the work into tasks, each with an office, a person and a deadline."""
        if not tasks:
            raise IllegalTransition("a consultation needs at least one task (--task '标题|办公室|责任人|时限')")
        created = []
        with self.acting(alert_id, actor, "consult") as a:
            self._require_open(a.alert, "consult")
            people = []
            for spec in tasks:
                self.access.check_office(spec.office)
                person = self.roster.responsible(spec.office, a.now, spec.person)
                if not person:
                    raise IllegalTransition(
                        f"task {spec.title!r} needs a 责任人: name one ('标题|办公室|责任人|时限'), or put "
                        f"{spec.office}'s duty roster in alerting.yaml (people:, duty:)")
                due = a.now + (spec.within or self.config.clocks.task_default)
                task_id, deadline = self.open_task(a, "consult", spec.title, spec.office, person, due)
                created.append(task_id)
                people.append(person)
                subject, body = messages.task_assigned(a.alert, spec.title, spec.office, person, due,
                                                       self.config.console_url)
                self.notifier.notify(a.session, a.alert, f"task:{task_id}", subject, body, a.now,
                                     offices=[spec.office], any_level=True, deadline=deadline, people=[person])
            a.extra["tasks"] = [{"id": t, "title": s.title, "office": s.office, "person": p}
                                for t, s, p in zip(created, tasks, people)]
        return created

    def deep_judge(self, alert_id: str, actor, note: str) -> str:
        """深度研判, once every office warned has reported its verification."""
        with self.acting(alert_id, actor, "deep_judge", note=note) as a:
            pending = a.session.execute(select(Task.office).where(
                Task.alert_id == alert_id, Task.kind == "verify", Task.state == "open")).scalars().all()
            if pending:
                raise IllegalTransition(f"alert {alert_id}: waiting for verification from "
                                        f"{'、'.join(dict.fromkeys(pending))}; deep judgement comes after")
            self.check_transition(a.alert, "deep_judge")
            a.alert.state = TRANSITIONS[a.alert.state]["deep_judge"]
        return alert_id

    def propose(self, alert_id: str, actor, proposal: str) -> str:
        """处置意见 to the coordinating group."""
        with self.acting(alert_id, actor, "propose", "propose", note=proposal) as a:
            subject, body = messages.proposal(a.alert, proposal, self.config.console_url)
            self.notifier.notify(a.session, a.alert, f"propose:{alert_id}", subject, body, a.now, offices=[],
                         leader=True)
        return alert_id

    def approve(self, alert_id: str, actor, note: str = "") -> str:
        """The coordinating group approves the proposal: handling and reporting begin."""
        self.access.require_leader(actor, "approve a proposal")
        with self.acting(alert_id, actor, "approve", "approve", note=note):
            pass
        return alert_id

    def close(self, alert_id: str, actor, note: str) -> str:
        """办结, once every upward report its clocks asked for was made (late ones included: they
        stay missed) or exempted by the 组长, and no task is open."""
        with self.acting(alert_id, actor, "close", "close", note=note) as a:
            owed = [d for d in a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.kind.in_(REPORT_KINDS), Deadline.status != "void")
            ).scalars() if d.done_at is None and d.exempted_at is None]
            open_tasks = a.session.execute(select(Task.id).where(
                Task.alert_id == alert_id, Task.state == "open")).scalars().all()
            if owed:
                missed = [d.label for d in owed if d.status == "missed"]
                raise IllegalTransition(
                    f"alert {alert_id}: {'、'.join(d.label for d in owed)} not made"
                    + (f" ({'、'.join(missed)} already missed; it stays missed)" if missed else "")
                    + f"; report first (yuqing alerts report {alert_id}), or the 组长 exempts it with a "
                    f"reason (yuqing alerts exempt {alert_id} --deadline {owed[0].key} --reason ...)")
            if open_tasks:
                raise IllegalTransition(f"alert {alert_id}: tasks {', '.join(map(str, open_tasks))} are still open")
            # 办结 ends the chase for receipts still unconfirmed; the audit entry names them
            unconfirmed = a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.kind == "receipt", Deadline.status == "open")).scalars().all()
            for deadline in unconfirmed:
                deadlines.void_deadline(a.session, deadline)
            if unconfirmed:
                a.extra["receipts_unconfirmed"] = [d.label for d in unconfirmed]
        return alert_id

    def exempt(self, alert_id: str, actor, deadline_key: str, reason: str) -> str:
        """免于上报: the 组长 lets an upward report go unmade, with the reason. A missed deadline stays
        missed; one still running is voided (its reminders stop). The exemption is on the deadline
        and in the audit log."""
        self.access.require_leader(actor, "exempt an upward report")
        if not reason.strip():
            raise IllegalTransition("give the reason for the exemption (--reason): it is kept for accountability")
        with self.acting(alert_id, actor, "exempt", note=reason) as a:
            deadline = a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.key == deadline_key,
                Deadline.kind.in_(REPORT_KINDS))).scalar_one_or_none()
            if deadline is None:
                raise NotFound(f"alert {alert_id} has no upward-report deadline {deadline_key!r}")
            if deadline.done_at is not None or deadline.exempted_at is not None:
                raise IllegalTransition(f"alert {alert_id}: {deadline.label} was already "
                                        + ("made" if deadline.done_at else f"exempted by {deadline.exempted_by}"))
            deadline.exempted_by, deadline.exempted_at, deadline.exempt_reason = actor.name, a.now, reason
            if deadline.status == "open":  # it no longer applies, and its timers stop
                self._stop(a.session, deadline, a.now)
            a.extra.update(deadline=deadline.key, status=deadline.status)
        return alert_id

    def _stop(self, session: Session, deadline: Deadline, now: datetime) -> str:
        """End a running deadline that no longer applies: ``void`` (its timers stop), or ``missed``
        when its time has already passed and the ticker has not said so yet: a lapse stays on
        record whatever comes after, and whichever ran first."""
        if self.timekeeper.settle_overdue(session, deadline, now):
            return "missed"
        deadlines.void_deadline(session, deadline)
        return "void"

    def apply_dismissal(self, a: Acting, reason: str, actor) -> None:
        """What dismissing a false alarm (误报) does to an alert, inside an action's frame: its clocks
        stop, its open tasks are cancelled, the reason is kept and its articles feed training.
        Who may dismiss, and when a second person is needed, is :mod:`alerting.dismissals`."""
        a.alert.dismiss_reason = reason
        for deadline in a.session.execute(select(Deadline).where(
                Deadline.alert_id == a.alert.id, Deadline.status == "open")).scalars().all():
            self._stop(a.session, deadline, a.now)
        for task in a.session.execute(select(Task).where(Task.alert_id == a.alert.id, Task.state == "open")).scalars():
            task.state = "void"
        article_ids = a.session.execute(select(AlertArticle.article_id).where(
            AlertArticle.alert_id == a.alert.id)).scalars().all()
        if self.on_dismiss is not None:
            self.on_dismiss(a.alert, list(article_ids), reason, actor)

    def advance(self, alert_id: str, actor, to: str, note: str = "", **options) -> str:
        """Move to the state ``to`` by the one action that leads there (for the CLI's ``advance``)."""
        with self.store.session() as session:
            state = self.access.load(session, alert_id, actor).state
        action = next((a for a, target in TRANSITIONS[state].items() if target == to), None)
        if action is None:
            raise IllegalTransition(
                f"alert {alert_id} is {STATE_LABELS[state]} ({state}); it cannot go to {to!r} directly; "
                f"next: {', '.join(TRANSITIONS[state].values()) or 'none (finished)'}")
        if action == "warn":
            self.warn(alert_id, actor, options.get("offices") or [], note)
            return alert_id
        if action == "dismiss":  # a request the 组长 may have to approve: alerting.dismissals
            raise IllegalTransition(f"dismiss with its reason: yuqing alerts dismiss {alert_id} --reason ...")
        if action == "verify":
            raise IllegalTransition("verification is reported by the office warned: "
                                    "yuqing alerts task-done TASK_ID --result ...")
        return getattr(self, action)(alert_id, actor, note)
