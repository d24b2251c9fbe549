"""迟报漏报情况: every late or missed upward report and verification of a period, by office and
person, how late, what followed, with the audit entries that prove it.

The rules end on 严肃追究瞒报、漏报 and slow handling; this report is what the 组长 reads for it.
A lapse is a deadline that ended ``missed`` — done after its time, or never done — and it belongs
to the office that owned the duty at that moment (an upward report is the coordinating office's,
a verification the warned office's), not to the alert's office. What followed is read from the
audit log: the escalation to the 组长, a late report, an exemption with its reason.

:func:`gather` fills :class:`AccountabilityData`; :func:`write_accountability` renders HTML and PDF
(the briefing's look and fonts) and an Excel sheet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.drills import real_alerts
from alerting.briefing import prose
from alerting.briefing.render import render_pdf, render_template
from alerting.config import AlertingConfig
from alerting.store import Store
from alerting.store.models import Alert, AuditEntry, Deadline, Task
from pipeline.export import as_text, xml_safe
from pipeline.records import SHANGHAI

__all__ = ["Lapse", "OfficeRecord", "AccountabilityData", "gather", "write_accountability", "Written"]

TEMPLATE = "accountability.html.j2"
KIND_WORDS = {"major": "上报", "overall": "上报", "task": "核实/任务"}


@dataclass(frozen=True)
class Lapse:
    """One duty done late or not done: whose it was, how late, and what followed."""

    alert_id: str
    title: str
    level: int
    duty: str
    kind: str
    office: str
    person: str
    due: datetime
    done_at: datetime | None
    #: how late: until it was done, or until the report was made when it was not
    late: timedelta
    exempted: str
    followed: tuple[str, ...]
    entries: tuple[int, ...]

    @property
    def outcome(self) -> str:
        if self.done_at is not None:
            return "逾期完成"
        return "免于上报" if self.exempted else "未完成"


@dataclass(frozen=True)
class OfficeRecord:
    """One office's (and person's) lapses of the period: counts and the total time over."""

    office: str
    person: str
    late: int
    undone: int
    total_late: timedelta


@dataclass(frozen=True)
class AccountabilityData:
    unit: str
    start: datetime
    end: datetime
    generated_at: datetime
    lapses: list[Lapse] = field(default_factory=list)

    @property
    def by_office(self) -> list[OfficeRecord]:
        late, undone, hours = Counter(), Counter(), Counter()
        for lapse in self.lapses:
            key = (lapse.office, lapse.person)
            (late if lapse.done_at is not None else undone)[key] += 1
            hours[key] += lapse.late.total_seconds()
        keys = sorted(set(late) | set(undone), key=lambda k: (-(late[k] + undone[k]), k))
        return [OfficeRecord(office, person, late[(office, person)], undone[(office, person)],
                             timedelta(seconds=hours[(office, person)])) for office, person in keys]


def _followed(entries: list[AuditEntry], deadline: Deadline) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """What the log says happened to ``deadline`` after it was due, in order, and those entries."""
    said, seqs = [], []
    for entry in entries:
        after = entry.after or {}
        concerns = (after.get("deadline") == deadline.key
                    or deadline.key in (after.get("deadlines") or {})
                    or (deadline.task_id is not None and after.get("task") == deadline.task_id))
        if not concerns or entry.at < deadline.due_at:
            continue
        when = prose.short_time(entry.at)
        if entry.action == "deadline_missed":
            said.append(f"{when} 超时，报组长")
        elif entry.action == "report":
            said.append(f"{when} {entry.actor}补报（{'、'.join(after.get('recipients') or [])}）")
        elif entry.action == "exempt":
            said.append(f"{when} {entry.actor}决定免于上报：{after.get('note', '')}")
        elif entry.action in ("verify", "task_done"):
            said.append(f"{when} {entry.actor}逾期反馈")
        else:
            said.append(f"{when} {entry.actor} {entry.action}")
        seqs.append(entry.seq)
    return tuple(said), tuple(seqs)


def _lapses(session: Session, start: datetime, end: datetime, now: datetime) -> list[Lapse]:
    # a receipt (回执) confirmed late is the other unit's delay as much as ours: chased, not a lapse
    rows = session.execute(select(Deadline, Alert).join(Alert, Alert.id == Deadline.alert_id).where(
        Deadline.status == "missed", Deadline.kind != "receipt", Deadline.due_at >= start, Deadline.due_at < end,
        real_alerts())
        .order_by(Deadline.due_at)).all()
    tasks = {t.id: t for t in session.execute(select(Task).where(
        Task.id.in_([d.task_id for d, _ in rows if d.task_id is not None]))).scalars()} if rows else {}
    lapses = []
    for deadline, alert in rows:
        entries = session.execute(select(AuditEntry).where(AuditEntry.alert_id == alert.id)
                                  .order_by(AuditEntry.seq)).scalars().all()
        followed, seqs = _followed(entries, deadline)
        task = tasks.get(deadline.task_id)
        until = deadline.done_at or min(now, end)
        exempted = f"{deadline.exempted_by}：{deadline.exempt_reason}" if deadline.exempted_at else ""
        lapses.append(Lapse(
            alert_id=alert.id, title=alert.title, level=alert.level, duty=deadline.label, kind=deadline.kind,
            office=deadline.office, person=deadline.person or (task.person if task is not None else ""),
            due=deadline.due_at.astimezone(SHANGHAI),
            done_at=deadline.done_at.astimezone(SHANGHAI) if deadline.done_at else None,
            late=max(timedelta(0), until - deadline.due_at), exempted=exempted, followed=followed,
            entries=seqs))
    return lapses


def gather(store: Store, config: AlertingConfig, start: datetime, end: datetime, now: datetime) -> AccountabilityData:
    """The lapses of duties due in ``[start, end)``, as of ``now``."""
    with store.session() as session:
        lapses = _lapses(session, start, end, now)
    return AccountabilityData(unit=config.unit, start=start, end=end, generated_at=now.astimezone(SHANGHAI),
                              lapses=lapses)


@dataclass(frozen=True)
class Written:
    html: Path
    pdf: Path
    xlsx: Path


def _xlsx(data: AccountabilityData, path: Path) -> None:
    # deferred: openpyxl takes a few tenths of a second to import, and only this export needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "迟报漏报情况"
    header = ("事项编号", "事项", "时限", "责任部门", "责任人", "应完成", "实际完成", "超时（小时）", "结果",
              "后续", "审计记录")
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for lapse in data.lapses:
        # every cell is text or a number: a title gathered from the web can never become a formula
        row = [lapse.alert_id, lapse.title, lapse.duty, lapse.office, lapse.person or "",
               prose.short_time(lapse.due), prose.short_time(lapse.done_at),
               round(lapse.late.total_seconds() / 3600, 2), lapse.outcome, "；".join(lapse.followed),
               "、".join(f"#{seq}" for seq in lapse.entries)]
        sheet.append([xml_safe(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            as_text(cell)
    for column, width in zip("ABCDEFGHIJK", (12, 40, 14, 10, 8, 12, 12, 10, 10, 48, 16)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    book.save(path)


def write_accountability(data: AccountabilityData, out_dir: Path) -> Written:
    """``迟报漏报情况-2026-11-01至2026-11-30`` as HTML, PDF and XLSX in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first = data.start.astimezone(SHANGHAI).date()
    last = (data.end.astimezone(SHANGHAI) - timedelta(seconds=1)).date()
    stem = f"迟报漏报情况-{first:%Y-%m-%d}" + (f"至{last:%Y-%m-%d}" if last != first else "")
    html = render_template(TEMPLATE, data=data, by_office=data.by_office,
                           period=f"{prose.cn_date(data.start)}至{prose.cn_date(data.end - timedelta(seconds=1))}")
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = render_pdf(html, out_dir / f"{stem}.pdf")
    xlsx_path = out_dir / f"{stem}.xlsx"
    _xlsx(data, xlsx_path)
    return Written(html_path, pdf_path, xlsx_path)
