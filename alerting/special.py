"""舆情专报 from the alert store: :class:`SpecialReports` fills a
:class:`~alerting.briefing.special.SpecialReport` with an alert's real record, writes it as DOCX and
PDF, and records the document in the audit log (kind, number, file names and their SHA-256).

- 首报 once; 续报 (numbered) after it; 结报 once the alert is closed (办结).
- 研判意见 are the notes of 初步研判, 升级, 深度研判, the 处置意见 and the 组长's decision, from the log.
- 已采取措施 are, in time order, the warnings and verifications, the reports upward with their
  receipts, the consultation tasks, and every handling record (:mod:`alerting.handling`).
- 下一步工作 is what the office writes (``next_steps``), else drafted from what is still open:
  tasks, reports owed, receipts unconfirmed.
- 联系人 is who is on duty for the coordinating office now (``people``/``duty`` in alerting.yaml).

Only the coordinating office (协调小组办公室) and the coordinating group make one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.briefing.special import SPECIAL_KINDS, SourceLine, SpecialReport, render_special_docx, render_special_pdf
from alerting.clock import Clock
from alerting.config import STATE_LABELS, AlertingConfig
from alerting.directory import Directory
from alerting.errors import IllegalTransition
from alerting.handling import describe, handlings_of
from alerting.people import Roster
from alerting.store import Store
from alerting.store.models import Alert, AlertArticle, AuditEntry, Deadline, Report, Task
from alerting.workflow import ACTION_WORDS, Workflow
from pipeline.records import SHANGHAI

__all__ = ["SpecialReports", "Written", "JUDGEMENT_ACTIONS"]

#: the log entries whose notes make up 研判意见
JUDGEMENT_ACTIONS = ("judge", "escalate", "deep_judge", "propose", "approve")


@dataclass(frozen=True)
class Written:
    docx: Path
    pdf: Path
    report: SpecialReport


def _when(moment: datetime | None) -> str:
    """``11月27日09:29`` on the Beijing clock, as a document to another unit writes a time."""
    if moment is None:
        return "—"
    local = moment.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SpecialReports:
    """Make 专报 of alerts; raises IllegalTransition (a kind out of order), Forbidden and NotFound."""

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock, workflow: Workflow):
        self.store = store
        self.config = config
        self.clock = clock
        self.workflow = workflow
        self.directory = Directory(config.directory)
        self.roster = Roster(config.people, config.duty)

    def made(self, session: Session, alert_id: str) -> list[dict]:
        """The 专报 already made of ``alert_id`` (their audit entries' ``after``), oldest first."""
        return [e.after or {} for e in session.execute(select(AuditEntry).where(
            AuditEntry.alert_id == alert_id, AuditEntry.action == "special_report").order_by(AuditEntry.seq)).scalars()]

    def make(self, alert_id: str, actor, kind: str, out_dir: Path, source_names: dict[str, str] | None = None,
             next_steps: list[str] | None = None) -> Written:
        """Write the ``kind`` 专报 of ``alert_id`` to ``out_dir`` as DOCX and PDF and log it."""
        if kind not in SPECIAL_KINDS:
            raise IllegalTransition(f"--kind {kind!r}: one of {'、'.join(SPECIAL_KINDS)}")
        now = self.clock.now()
        with self.store.session() as session:
            alert = self.workflow.access.load(session, alert_id, actor)
            self.workflow.access.require_coordinator(actor, ACTION_WORDS["special_report"])
            number = self._check_order(alert, kind, self.made(session, alert_id))
            report = self._fill(session, alert, kind, number, now, source_names or {}, next_steps)
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"舆情专报-{alert_id}-{report.kind}{number or ''}"
        docx = render_special_docx(report, out_dir / f"{stem}.docx")
        pdf = render_special_pdf(report, out_dir / f"{stem}.pdf")
        with self.workflow.acting(alert_id, actor, "special_report") as a:
            a.extra.update(special_kind=kind, number=number, recipients=list(report.recipients),
                           files={p.name: _sha256(p) for p in (docx, pdf)})
        return Written(docx, pdf, report)

    def _check_order(self, alert: Alert, kind: str, made: list[dict]) -> int:
        kinds = [m.get("special_kind") for m in made]
        if alert.state == "dismissed":
            raise IllegalTransition(f"alert {alert.id} was dismissed as a false alarm; no 专报 is sent")
        if kind == "首报" and "首报" in kinds:
            raise IllegalTransition(f"alert {alert.id} already has its 首报; what follows is a 续报 (--kind 续报)")
        if kind == "续报" and "首报" not in kinds:
            raise IllegalTransition(f"alert {alert.id} has no 首报 yet; make it first (--kind 首报)")
        if kind == "结报":
            if alert.state != "closed":
                raise IllegalTransition(f"alert {alert.id} is {STATE_LABELS[alert.state]}: the 结报 follows 办结 "
                                        f"(yuqing alerts advance {alert.id} --to closed)")
            if "结报" in kinds:
                raise IllegalTransition(f"alert {alert.id} already has its 结报")
        return kinds.count("续报") + 1 if kind == "续报" else 0

    def _fill(self, session: Session, alert: Alert, kind: str, number: int, now: datetime,
              names: dict[str, str], next_steps: list[str] | None) -> SpecialReport:
        def rows(model, *order):
            return session.execute(select(model).where(model.alert_id == alert.id).order_by(*order)).scalars().all()

        articles = rows(AlertArticle, AlertArticle.seen_at)
        reports = rows(Report, Report.at, Report.id)
        tasks = rows(Task, Task.id)
        clocks = [d for d in rows(Deadline, Deadline.due_at) if d.kind in ("major", "overall") and d.status != "void"]
        entries = rows(AuditEntry, AuditEntry.seq)
        handlings = handlings_of(session, [alert.id]).get(alert.id, [])
        counts = Counter(a.source_id for a in articles)
        sources = tuple(SourceLine(names.get(s, s), n) for s, n in counts.most_common())
        return SpecialReport(
            kind=kind, number=number, unit=self.config.unit, recipients=self._recipients(reports, clocks),
            made_at=now, alert_id=alert.id, title=alert.title, level=alert.level, overall=alert.overall,
            emergency=alert.emergency, state=STATE_LABELS[alert.state], summary=alert.summary or "",
            url=alert.url, first_seen=alert.first_seen, first_source=names.get(alert.first_source, alert.first_source),
            sources=sources, articles=max(alert.articles, len(articles)),
            judgement=tuple(f"{ACTION_WORDS[e.action]}（{_when(e.at)}，{e.actor}）：{e.after['note']}"
                            for e in entries if e.action in JUDGEMENT_ACTIONS and (e.after or {}).get("note")),
            measures=self._measures(reports, tasks, handlings),
            next_steps=tuple(next_steps) if next_steps else self._draft_next(alert, kind, reports, tasks, clocks, entries),
            contact=self._contact(now))

    def _recipients(self, reports: list[Report], clocks: list[Deadline]) -> tuple[str, ...]:
        wanted = {r.recipient for r in reports}
        for deadline in clocks:
            wanted.update(self.config.clocks.upward(deadline.kind).recipients)
        ordered = [u.name for u in self.directory.recipients if u.name in wanted]
        return tuple(ordered + sorted(wanted - set(ordered)))

    @staticmethod
    def _measures(reports: list[Report], tasks: list[Task], handlings) -> tuple[str, ...]:
        dated: list[tuple[datetime, str]] = []
        for task in tasks:
            if task.kind == "verify":
                done = f"；{_when(task.done_at)}反馈：{task.result}" if task.done_at else "；核实中"
                dated.append((task.created_at, f"{_when(task.created_at)} 向{task.office}发出预警，"
                                               f"要求限时核实{done}。"))
            elif task.kind == "consult":
                state = f"已完成：{task.result}" if task.done_at else f"{_when(task.due_at)}前完成"
                dated.append((task.created_at, f"{_when(task.created_at)} 即时会商，明确{task.office}"
                                               f"{task.person}负责：{task.title}（{state}）。"))
        for r in reports:
            receipt = (f"，{r.received_by}于{_when(r.received_at)}以{r.received_via}确认收到"
                       if r.received_at else "，回执待确认")
            skip = f"（经组长同意越级报送：{r.skip_reason}）" if r.skip_reason else ""
            dated.append((r.at, f"{_when(r.at)} 报{r.recipient}{skip}{receipt}。"))
        for h in handlings:
            dated.append((h.at, f"{_when(h.at)} {describe(h)}（{h.actor}）。"))
        return tuple(text for _, text in sorted(dated, key=lambda pair: pair[0]))

    def _draft_next(self, alert: Alert, kind: str, reports: list[Report], tasks: list[Task],
                    clocks: list[Deadline], entries: list[AuditEntry]) -> tuple[str, ...]:
        lines = []
        for task in tasks:
            if task.state == "open":
                lines.append(f"督促{task.office}{task.person}于{_when(task.due_at)}前完成：{task.title}。")
        made = {r.recipient for r in reports}
        for deadline in clocks:
            if deadline.done_at is None and deadline.exempted_at is None:
                missing = "、".join(u for u in self.config.clocks.upward(deadline.kind).recipients if u not in made)
                lines.append(f"于{_when(deadline.due_at)}前完成{deadline.label}（尚需报送{missing}）。")
        unconfirmed = [r.recipient for r in reports if r.received_at is None]
        if unconfirmed:
            lines.append(f"确认{'、'.join(dict.fromkeys(unconfirmed))}回执。")
        if kind == "结报":
            closing = next((e.after.get("note") for e in reversed(entries) if e.action == "close" and e.after), "")
            lines.append(f"本事项已办结{('：' + closing) if closing else ''}，转入常态监测，如有反复及时报告。")
        else:
            lines.append("持续监测相关信息，有新情况及时续报。")
        return tuple(lines)

    def _contact(self, now: datetime) -> str:
        office = self.config.coordinating_office
        person = self.roster.on_duty(office, now)
        if person is None:
            return f"协调小组办公室（{office}）"
        title = f"{office}{person.title}" if person.title else office
        return f"{person.name}（{title}）" + (f"，电话 {person.phone}" if person.phone else "")
