"""The workflow actions as the console offers them: one request model per action, one call each;
and the coordinating group's review of briefings (:func:`review_briefing`).

The JSON API (``POST /api/alerts/{id}/{action}``) and the pages' forms both end in :func:`perform`,
which calls :class:`alerting.service.AlertService` with the logged-in user's
:class:`~alerting.workflow.Actor`. Nothing here decides who may do what: the service checks
visibility, the coordinating office's rights and the state transition, and records the action
in the audit log, exactly as for ``yuqing alerts``. Its errors pass through unchanged
(NotFound 404, Forbidden 403, IllegalTransition 409, UnknownOffice 422).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.access import Actor
from alerting.chain import RECEIPT_VIAS
from alerting.handling import HANDLING_KINDS
from alerting.reviews import REVIEW_LABELS
from alerting.workflow import ACTION_WORDS, TaskSpec
from yuqing.web.inputs import whole_number

__all__ = ["ACTIONS", "Action", "perform", "complete_task", "CompleteIn", "form_to_model",
           "ActionResult", "ApproveBriefingIn", "ReturnBriefingIn", "ReviewResult", "review_briefing",
           "REVIEW_WORDS"]

_Within = Field(default=None, ge=1, le=7 * 24 * 60, description="time limit in minutes")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_In):
    note: str = Field(default="", max_length=4000, description="the judgement, or why (kept in the audit log)")


class JudgeIn(NoteIn):
    """初步研判: confirm or correct the level, the office and the urgency."""

    level: int | None = Field(default=None, ge=1, le=3, description="1 一般, 2 较大, 3 重大")
    office: str | None = None
    overall: bool | None = Field(default=None, description="可能影响全局: the 2-hour upward report")
    emergency: bool | None = Field(default=None, description="紧急: report at once")


class WarnIn(NoteIn):
    """预警: the offices concerned must verify (核实) within the limit."""

    offices: list[str] = Field(min_length=1)
    within_minutes: int | None = _Within


class AssignIn(NoteIn):
    """改派 to another office."""

    office: str


class TaskIn(_In):
    title: str = Field(min_length=1, max_length=400)
    office: str
    person: str = Field(default="", max_length=80)
    within_minutes: int | None = _Within


class ConsultIn(_In):
    """即时会商: the work split into tasks, each with an office, a person and a time limit."""

    tasks: list[TaskIn] = Field(min_length=1)


class ReportIn(NoteIn):
    """上报/知会 upward to units of the directory, level by level; no recipients: every unit the
    open deadlines still need. ``skip_reason``: the 组长's reason to pass a level not yet reported to."""

    recipients: list[str] | None = None
    skip_reason: str = Field(default="", max_length=4000)


class ReceiptIn(NoteIn):
    """回执: who at ``unit`` confirmed the report, and how."""

    unit: str = Field(min_length=1, max_length=30)
    by: str = Field(min_length=1, max_length=80)
    via: Literal[RECEIPT_VIAS]  # the service's list, so the two cannot drift apart


class HandleIn(_In):
    """舆情处置: a 回应/澄清/辟谣/信息发布 (text, link), a 线索移交 (office), a 协同 (partner)."""

    kind: Literal[HANDLING_KINDS]
    text: str = Field(min_length=1, max_length=4000)
    link: str | None = Field(default=None, max_length=2000)
    office: str | None = None
    partner: str | None = None


class DismissIn(_In):
    """排除误报, with the reason (kept for training and accountability): at once for a 一般 item
    (and for the 组长); from 较大 up a request that waits for the 组长."""

    reason: str = Field(min_length=1, max_length=4000)


class DismissalReturnIn(_In):
    """退回 a request to dismiss, saying why (the 组长)."""

    note: str = Field(min_length=1, max_length=4000)


class ExemptIn(_In):
    """免于上报: the 组长 lets an upward report go unmade, with the reason; a missed one stays missed."""

    deadline: str = Field(pattern="^(major|overall)$", description="major (1 小时) or overall (2 小时)")
    reason: str = Field(min_length=1, max_length=4000)


class EscalateIn(NoteIn):
    level: int | None = Field(default=None, ge=2, le=3)
    emergency: bool = False
    overall: bool = False


class ProposeIn(_In):
    """处置意见 to the coordinating group."""

    proposal: str = Field(min_length=1, max_length=4000)


class CompleteIn(_In):
    """An office reports its verification (核实反馈) or finishes a consultation task."""

    result: str = Field(min_length=1, max_length=4000)


class ActionResult(BaseModel):
    alert_id: str
    action: str
    label: str
    tasks: list[int] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    #: dismiss: ``dismissed`` at once, or ``proposed`` (waiting for the 组长)
    outcome: str = ""


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


class Action:
    """One workflow action: its request model and how it calls the service."""

    def __init__(self, name: str, model: type[BaseModel], call: Callable[[Any, str, Actor, Any], Any]):
        self.name, self.model, self.call = name, model, call
        self.label = ACTION_WORDS[name]


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("ack", NoteIn, lambda s, i, actor, b: s.ack(i, actor)),
    Action("judge", JudgeIn, lambda s, i, actor, b: s.judge(
        i, actor, b.note, level=b.level, office=b.office or None, overall=b.overall, emergency=b.emergency)),
    Action("warn", WarnIn, lambda s, i, actor, b: s.warn(i, actor, b.offices, b.note, _minutes(b.within_minutes))),
    Action("assign", AssignIn, lambda s, i, actor, b: s.assign(i, actor, b.office, b.note)),
    Action("consult", ConsultIn, lambda s, i, actor, b: s.consult(i, actor, [
        TaskSpec(t.title, t.office, t.person, _minutes(t.within_minutes)) for t in b.tasks])),
    Action("report", ReportIn, lambda s, i, actor, b: s.report(i, actor, b.recipients or None, b.note,
                                                                b.skip_reason)),
    Action("receipt", ReceiptIn, lambda s, i, actor, b: s.confirm_receipt(i, actor, b.unit, b.by, b.via, b.note)),
    Action("handle", HandleIn, lambda s, i, actor, b: s.handle(i, actor, b.kind, b.text, b.link or None,
                                                                b.office or None, b.partner or None)),
    Action("dismiss", DismissIn, lambda s, i, actor, b: s.dismiss(i, actor, b.reason)),
    Action("dismiss_approve", NoteIn, lambda s, i, actor, b: s.approve_dismissal(i, actor, b.note)),
    Action("dismiss_return", DismissalReturnIn, lambda s, i, actor, b: s.return_dismissal(i, actor, b.note)),
    Action("exempt", ExemptIn, lambda s, i, actor, b: s.exempt(i, actor, b.deadline, b.reason)),
    Action("escalate", EscalateIn, lambda s, i, actor, b: s.escalate(
        i, actor, b.note, level=b.level, emergency=b.emergency, overall=b.overall)),
    Action("deep_judge", NoteIn, lambda s, i, actor, b: s.deep_judge(i, actor, b.note)),
    Action("propose", ProposeIn, lambda s, i, actor, b: s.propose(i, actor, b.proposal)),
    Action("approve", NoteIn, lambda s, i, actor, b: s.approve(i, actor, b.note)),
    Action("close", NoteIn, lambda s, i, actor, b: s.close(i, actor, b.note)),
)}


def perform(service, actor: Actor, alert_id: str, name: str, body: BaseModel) -> ActionResult:
    """Run action ``name`` on ``alert_id`` as ``actor``; the service's errors pass through."""
    action = ACTIONS[name]
    out = action.call(service, alert_id, actor, body)
    result = ActionResult(alert_id=alert_id, action=name, label=action.label)
    if name in ("warn", "consult"):
        result.tasks = list(out)
    elif name == "report":
        result.recipients = list(out)
    elif name == "dismiss":
        result.outcome = out
    return result


def complete_task(service, actor: Actor, task_id: int, body: CompleteIn) -> ActionResult:
    alert_id = service.complete_task(task_id, actor, body.result)
    return ActionResult(alert_id=alert_id, action="task_done", label=ACTION_WORDS["task_done"], tasks=[task_id])


class ApproveBriefingIn(_In):
    """批准 a briefing (组长 only); the note (批示) is optional."""

    note: str = Field(default="", max_length=4000, description="批示 (kept in the audit log)")


class ReturnBriefingIn(_In):
    """退回 a briefing for rework (组长 only); the note says what to change."""

    note: str = Field(min_length=1, max_length=4000, description="what to rework (kept in the audit log)")


class ReviewResult(BaseModel):
    name: str
    state: str
    state_label: str
    by: str
    at: str
    note: str


#: decision in the URL: (the service's method, the word on the page)
REVIEW_WORDS = {"approve": ("approve_briefing", "批准"), "return": ("return_briefing", "退回")}


def review_briefing(service, actor: Actor, folder, name: str, decision: str, note: str) -> ReviewResult:
    """批准 or 退回 briefing ``name`` as ``actor``; the service's errors pass through."""
    review = getattr(service, REVIEW_WORDS[decision][0])(name, actor, folder, note)
    return ReviewResult(name=review.name, state=review.state, state_label=REVIEW_LABELS[review.state],
                        by=review.actor, at=review.at.isoformat(), note=review.note)


def _flag(value: str | None) -> bool | None:
    return None if value in (None, "") else value in ("1", "on", "true", "yes")


def _number(value: str) -> int | str | None:
    """A number field of a form: None when empty; anything but a whole number goes to the model
    as written, which refuses it naming the field (never ``int()`` on it: "²" is a digit to
    ``str.isdigit``)."""
    value = value.strip()
    number = whole_number(value)
    return number if number is not None else (value or None)


def form_to_model(name: str, form) -> BaseModel:
    """The request model of action ``name`` from an HTML form (a starlette ``FormData``).

    Raises pydantic's ValidationError like the API does; empty fields mean "not given".
    """
    def text(key: str) -> str:
        return (form.get(key) or "").strip()

    def number(key: str) -> int | str | None:
        return _number(text(key))

    if name == "task_done":
        return CompleteIn(result=text("result"))
    model = ACTIONS[name].model
    if model is JudgeIn:
        return JudgeIn(note=text("note"), level=number("level"), office=text("office") or None,
                       overall=_flag(form.get("overall")), emergency=_flag(form.get("emergency")))
    if model is WarnIn:
        return WarnIn(note=text("note"), offices=[o for o in form.getlist("offices") if o],
                      within_minutes=number("within_minutes"))
    if model is AssignIn:
        return AssignIn(note=text("note"), office=text("office"))
    if model is ConsultIn:
        tasks = [TaskIn(title=t.strip(), office=o, person=p.strip(), within_minutes=_number(w))
                 for t, o, p, w in zip(form.getlist("title"), form.getlist("office"), form.getlist("person"),
                                       form.getlist("within_minutes")) if t.strip()]
        return ConsultIn(tasks=tasks)
    if model is ReportIn:
        recipients = [r.strip() for r in text("recipients").replace("，", ",").replace("、", ",").split(",") if r.strip()]
        return ReportIn(note=text("note"), recipients=recipients or None, skip_reason=text("skip_reason"))
    if model is ReceiptIn:
        return ReceiptIn(note=text("note"), unit=text("unit"), by=text("by"), via=text("via"))
    if model is HandleIn:
        return HandleIn(kind=text("kind"), text=text("text"), link=text("link") or None,
                        office=text("office") or None, partner=text("partner") or None)
    if model is DismissIn:
        return DismissIn(reason=text("reason"))
    if model is EscalateIn:
        return EscalateIn(note=text("note"), level=number("level"), emergency=bool(_flag(form.get("emergency"))),
                          overall=bool(_flag(form.get("overall"))))
    if model is ProposeIn:
        return ProposeIn(proposal=text("proposal"))
    return NoteIn(note=text("note"))


def first_problem(exc: ValidationError) -> str:
    """A one-line message for a form: the field and what is wrong."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
