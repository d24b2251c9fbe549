"""Reporting upward (上报) as the rules lay it out: to units of the directory only, level by level,
each report's receipt (回执) confirmed, and a reminder while it is not.

The clocks (:mod:`alerting.timekeeper`) give the steps their deadlines: the 1-hour report of a
重大 item to 市纪委监委宣传部 and 县委 with 县委宣传部 notified (``clocks.major``), and the 2-hour
report, rung by rung, of an item that may affect the overall situation (``clocks.overall``). A
clock's deadline is met once each of its recipients has a report. Here:

- a recipient must be a unit of ``directory`` that is reported to (not a partner): anything else
  is refused with the list of units (:class:`~alerting.errors.UnknownUnit`);
- a rung of the upward chain (``kind: upward``, ``order``) is reported to only after every rung
  below it; skipping one is the 组长's decision, with the reason, kept on the report and in the
  audit log;
- each report opens a receipt deadline (``receipt:<report id>``, ``clocks.receipt`` long); when
  it passes unconfirmed, the ticker reminds the coordinating office (a chase, not a missed duty:
  the other unit's answer is not ours to give); confirming it (:meth:`ReportChain.confirm`)
  records who confirmed, how and when. 办结 ends the chase.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from alerting import deadlines
from alerting.config import AlertingConfig
from alerting.directory import Directory, Unit
from alerting.drills import DRILL_REPORT_NOTE, is_drill
from alerting.errors import IllegalTransition, NotFound, UnknownUnit
from alerting.people import Roster
from alerting.store.models import Deadline, Report
from alerting.workflow import Workflow

__all__ = ["ReportChain", "RECEIPT_VIAS", "receipt_key"]

#: how a receipt is confirmed
RECEIPT_VIAS = ("电话", "传真", "机要", "邮件")


def receipt_key(report_id: int) -> str:
    """The key of the receipt deadline a report opens."""
    return f"receipt:{report_id}"


class ReportChain:
    """``report`` and ``confirm`` of upward reports, in the frame of :class:`Workflow` actions
    (loaded under a lock, checked, audited). Raises UnknownUnit, IllegalTransition, Forbidden
    (a skip by someone other than the 组长) and NotFound."""

    def __init__(self, config: AlertingConfig, workflow: Workflow):
        self.config = config
        self.workflow = workflow
        self.directory = Directory(config.directory)
        self.roster = Roster(config.people, config.duty)

    def unit(self, name: str) -> Unit:
        """The reportable unit ``name``; UnknownUnit listing the units otherwise."""
        unit = self.directory.unit(name)
        if unit is None or unit.kind == "partner":
            valid = "、".join(u.name for u in self.directory.recipients)
            what = f"{name!r} is a partner (协同单位), not reported to" if unit else f"{name!r} is not in the directory"
            raise UnknownUnit(f"{what}; report to one of: {valid} (directory in alerting.yaml)")
        return unit

    def report(self, alert_id: str, actor, recipients: list[str] | None = None, note: str = "",
               skip_reason: str = "") -> list[str]:
        """上报/知会 to ``recipients`` (default: every unit the alert's clocks still need), lowest rung
        first; returns the units reported to, in that order."""
        with self.workflow.acting(alert_id, actor, "report", note=note) as a:
            if a.alert.state == "dismissed":
                raise IllegalTransition(f"alert {alert_id} was dismissed as a false alarm; nothing to report")
            if is_drill(a.alert):  # recorded here only: no upward unit hears of a drill
                note = f"{DRILL_REPORT_NOTE}；{note}" if note else DRILL_REPORT_NOTE
            clocks = a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.kind.in_(("major", "overall")))).scalars().all()
            made = set(a.session.execute(select(Report.recipient).where(Report.alert_id == alert_id)).scalars())
            if recipients is None:
                wanted = [r for d in clocks if d.status != "void" for r in self.config.clocks.upward(d.kind).recipients]
                recipients = [r for r in wanted if r not in made] or wanted
                if not recipients:
                    raise IllegalTransition(f"alert {alert_id} has no upward-report deadline; name the unit "
                                            f"(--to {self.directory.recipients[0].name})")
            units = [self.unit(name) for name in dict.fromkeys(recipients)]
            units.sort(key=lambda u: (u.kind != "upward", u.order))
            skipped = self._check_order(units, made, actor, skip_reason)
            for unit in units:
                report = Report(alert_id=alert_id, recipient=unit.name, note=note, actor=actor.name, at=a.now,
                                skip_reason=skip_reason if unit.name in skipped else None)
                a.session.add(report)
                a.session.flush()
                self._receipt_deadline(a.session, alert_id, report, a.now)
                made.add(unit.name)
            outcome = {}
            for deadline in clocks:
                status = self.workflow.timekeeper.close_if_reported(a.session, deadline)
                if status is not None:
                    outcome[deadline.key] = status
            a.extra.update(recipients=[u.name for u in units], deadlines=outcome)
            if skipped:
                a.extra.update(skipped=skipped, skip_reason=skip_reason)
        return [u.name for u in units]

    def _check_order(self, units: list[Unit], made: set[str], actor, skip_reason: str) -> dict[str, list[str]]:
        """The rungs each unit would skip ({unit: [rungs below not yet reported]}); refused unless the
        组长 gives the reason."""
        skipped: dict[str, list[str]] = {}
        reached = set(made)
        for unit in units:
            missing = [u.name for u in self.directory.below(unit) if u.name not in reached]
            if missing:
                skipped[unit.name] = missing
            reached.add(unit.name)
        if skipped and not skip_reason.strip():
            unit, missing = next(iter(skipped.items()))
            raise IllegalTransition(
                f"逐级上报: report to {'、'.join(missing)} before {unit}; skipping a level is for the 组长, with "
                "the reason (--skip-reason ...)")
        if skipped:
            self.workflow.access.require_leader(actor, f"skip a level of the chain ({'、'.join(skipped)})")
        return skipped

    def _receipt_deadline(self, session, alert_id: str, report: Report, now: datetime) -> Deadline:
        office = self.config.coordinating_office
        # no reminders before: the chase at the due time is the reminder (Timekeeper)
        return deadlines.open_deadline(
            session, alert_id=alert_id, kind="receipt", key=receipt_key(report.id), label=f"回执·{report.recipient}",
            office=office, due=now + self.config.clocks.receipt, now=now, reminders=[],
            person=self.roster.responsible(office, now))

    def confirm(self, alert_id: str, actor, unit: str, by: str, via: str, note: str = "") -> int:
        """Record the receipt of the latest unconfirmed report to ``unit``: ``by`` (who there
        confirmed), ``via`` (电话, 传真, 机要, 邮件); returns the report's id."""
        self.unit(unit)
        if via not in RECEIPT_VIAS:
            raise IllegalTransition(f"--via {via!r}: a receipt is confirmed by {'、'.join(RECEIPT_VIAS)}")
        if not by.strip():
            raise IllegalTransition("say who at the unit confirmed the receipt (--by 姓名)")
        with self.workflow.acting(alert_id, actor, "receipt", note=note) as a:
            reports = a.session.execute(select(Report).where(
                Report.alert_id == alert_id, Report.recipient == unit).order_by(Report.at.desc(), Report.id.desc())
            ).scalars().all()
            if not reports:
                raise NotFound(f"alert {alert_id} was not reported to {unit}; report first "
                               f"(yuqing alerts report {alert_id} --to {unit})")
            report = next((r for r in reports if r.received_at is None), None)
            if report is None:
                last = reports[0]
                raise IllegalTransition(f"the report of {alert_id} to {unit} was already confirmed by "
                                        f"{last.received_by} ({last.received_via})")
            report.received_by, report.received_via = by.strip(), via
            report.received_at, report.receipt_recorded_by = a.now, actor.name
            deadline = a.session.execute(select(Deadline).where(
                Deadline.alert_id == alert_id, Deadline.key == receipt_key(report.id))).scalar_one_or_none()
            status = deadlines.close_deadline(a.session, deadline, a.now) if deadline is not None else "met"
            a.extra.update(unit=unit, received_by=report.received_by, via=via, report=report.id,
                           deadline=receipt_key(report.id), status=status)
        return report.id
