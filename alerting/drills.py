"""Drills (演练): the office practises the workflow on a marked alert, on the real clock.

The rules ask the office to prepare for and drill opinion incidents. :func:`drill_article` makes
the item a drill starts from; it enters the queue like any item (its level and office as the
drill says, the upward-report clocks started on the real clock), and the office then works it
with the usual commands or the console: judge, warn, report, consult, close. A drill alert is an
ordinary alert whose story key starts with :data:`DRILL_PREFIX`, so that

- it is labelled 【演练】 wherever its title is shown (queue, console, messages, CLI);
- every count of real work leaves it out with one condition (:func:`real_alerts`): briefings,
  the accountability report; the volume trigger never counts it;
- its upward reports are recorded inside the commission only, marked as a drill, and reach no
  upward unit; its messages go to the commission's own channels, as a real alert's would.

:func:`drill_report` says afterwards what was done, when and by whom, against which deadline, and
which steps were late (演练报告).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.store.models import Alert, AuditEntry, Deadline
from pipeline.records import Article, ScoredArticle, beijing_minute

__all__ = ["DRILL_LABEL", "DRILL_PREFIX", "DRILL_REPORT_NOTE", "DeadlineLine", "DrillReport", "Step",
           "drill_article", "drill_report", "is_drill", "real_alerts", "render_text"]

DRILL_PREFIX = "drill:"
DRILL_LABEL = "【演练】"
#: the note every upward report of a drill carries: it was recorded, not sent
DRILL_REPORT_NOTE = "【演练】仅在本单位内记录，未向上级单位报送"
DRILL_SOURCE = "演练"


def is_drill(alert: Alert) -> bool:
    return alert.story_key.startswith(DRILL_PREFIX)


def real_alerts():
    """The SQL condition that keeps drill alerts out of counts, briefings and reports."""
    return Alert.story_key.not_like(f"{DRILL_PREFIX}%")


def drill_article(scenario: str, level: int, office: str, at: datetime) -> ScoredArticle:
    """The item a drill starts from: ``scenario`` (the invented opinion), at ``level`` for
    ``office``, first seen ``at``. Its own story, so that two drills never merge."""
    scenario = scenario.strip()
    if not scenario:
        raise ValueError("scenario: empty; describe the invented item the drill starts from")
    if level not in (1, 2, 3):
        raise ValueError(f"level {level!r}: a drill is 1 一般, 2 较大 or 3 重大")
    stamp = at.strftime("%Y%m%dT%H%M%S%f")
    article = Article.create(source_id=DRILL_SOURCE, url=f"urn:yuqing:drill-{stamp}",
                             title=DRILL_LABEL + scenario.splitlines()[0][:80], content=DRILL_LABEL + scenario,
                             fetched=at)
    return ScoredArticle.from_article(
        article, relevance=1.0, sensitivity=1.0 if level >= 2 else 0.5, level=level, department=office,
        model_version="drill", explanation=("演练",), story_id=DRILL_PREFIX + stamp, first_source=DRILL_SOURCE)


@dataclass(frozen=True)
class Step:
    """One thing done in the drill, from the audit log."""

    at: datetime
    actor: str
    action: str
    note: str


@dataclass(frozen=True)
class DeadlineLine:
    """One clock of the drill and how it went; ``late`` is how far past due (done late, or still
    not done at the report), None when on time or still within its limit."""

    label: str
    office: str
    due: datetime
    done: datetime | None
    status: str
    late: timedelta | None


@dataclass(frozen=True)
class DrillReport:
    alert_id: str
    title: str
    level: int
    office: str
    started: datetime
    state: str
    made_at: datetime
    steps: list[Step]
    deadlines: list[DeadlineLine]

    @property
    def late(self) -> list[DeadlineLine]:
        return [d for d in self.deadlines if d.late is not None]


def drill_report(session: Session, alert: Alert, now: datetime, words: dict[str, str],
                 states: dict[str, str]) -> DrillReport:
    """The report of the drill ``alert`` as of ``now``; ``words`` names the audit actions and
    ``states`` the workflow states in Chinese. ValueError for an alert that is not a drill."""
    if not is_drill(alert):
        raise ValueError(f"{alert.id} is not a drill; drill reports are made for drill alerts only")
    entries = session.execute(select(AuditEntry).where(AuditEntry.alert_id == alert.id)
                              .order_by(AuditEntry.seq)).scalars().all()
    steps = [Step(e.at, e.actor, words.get(e.action, e.action), str((e.after or {}).get("note", "") or ""))
             for e in entries]
    clocks = session.execute(select(Deadline).where(Deadline.alert_id == alert.id, Deadline.status != "void")
                             .order_by(Deadline.due_at)).scalars().all()
    lines = []
    for d in clocks:
        end = d.done_at or now
        late = end - d.due_at if end > d.due_at else None
        label = d.label.split("#")[0] if d.kind == "task" else d.label  # 核实#3: the task's number is noise here
        lines.append(DeadlineLine(label, d.office, d.due_at, d.done_at, d.status, late))
    return DrillReport(alert.id, alert.title, alert.level, alert.office, alert.first_seen,
                       states.get(alert.state, alert.state), now, steps, lines)


def _span(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    return f"{hours}小时{rest}分钟" if hours else f"{rest}分钟"


def render_text(report: DrillReport, level_names: dict[int, str]) -> str:
    """The drill report as plain text (Markdown), for the office's file and the screen."""
    lines = [f"# 演练报告：{report.title}", "",
             f"- 演练事项：{report.alert_id}（{level_names[report.level]}，承办：{report.office}）",
             f"- 开始：{beijing_minute(report.started)}；报告生成：{beijing_minute(report.made_at)}；"
             f"当前状态：{report.state}",
             "- 说明：演练事项不计入舆情通报和迟报漏报统计；演练中的上报仅在本单位内记录，未向上级单位报送。", "",
             "## 处置过程", "", "| 时间 | 人员 | 操作 | 说明 |", "|---|---|---|---|"]
    lines += [f"| {beijing_minute(s.at)} | {s.actor} | {s.action} | {s.note.replace('|', '/')} |" for s in report.steps]
    lines += ["", "## 时限执行", "", "| 时限 | 部门 | 应完成 | 实际完成 | 结果 |", "|---|---|---|---|---|"]
    for d in report.deadlines:
        outcome = "按时" if d.late is None and d.done else ("尚在时限内" if d.late is None else
                                                           f"超时{_span(d.late)}" + ("" if d.done else "（未完成）"))
        lines.append(f"| {d.label} | {d.office} | {beijing_minute(d.due)} | {beijing_minute(d.done)} | {outcome} |")
    lines += ["", "## 超时环节", ""]
    lines += [f"- {d.label}（{d.office}）：应于{beijing_minute(d.due)}完成，"
              + (f"{beijing_minute(d.done)}完成，超时{_span(d.late)}" if d.done else f"至报告时未完成，已超时{_span(d.late)}")
              for d in report.late] or ["- 无"]
    return "\n".join(lines) + "\n"
