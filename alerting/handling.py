"""Handling records (舆情处置): what was done about an alert, by whom and when.

Kinds, as the rules and the offices speak of them:

    回应 澄清 辟谣 信息发布   a statement published (``text``, and the ``link`` where it stands)
    线索移交                 a clue handed to an office (案管室, 监督检查室 ...), which gets a task
                            with its own deadline (``clocks.clue``) to sign for it and report back
    协同                     work with a partner of the directory (上级纪委, 公安, 检察院, 法院,
                            律师协会, 网信办)

The coordinating office records any of them; the office an alert is assigned to records its own.
Each record is one audit entry. :func:`handlings_of` is the query the alert page, the 舆情专报
(已采取措施) and the briefings read them through; :func:`describe` says one in a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import messages
from alerting.config import AlertingConfig
from alerting.directory import Directory
from alerting.errors import Forbidden, IllegalTransition, UnknownUnit
from alerting.store.models import Handling
from alerting.workflow import OPEN_STATES, Workflow

__all__ = ["HANDLING_KINDS", "PUBLISHED_KINDS", "Handlings", "HandlingLine", "handlings_of", "describe"]

PUBLISHED_KINDS = ("回应", "澄清", "辟谣", "信息发布")
HANDLING_KINDS = (*PUBLISHED_KINDS, "线索移交", "协同")


@dataclass(frozen=True)
class HandlingLine:
    """One record as the documents read it (detached from the database session)."""

    id: int
    alert_id: str
    kind: str
    text: str
    link: str | None
    office: str
    partner: str
    task_id: int | None
    actor: str
    actor_office: str
    at: datetime


def _line(row: Handling) -> HandlingLine:
    return HandlingLine(id=row.id, alert_id=row.alert_id, kind=row.kind, text=row.text, link=row.link,
                        office=row.office, partner=row.partner, task_id=row.task_id, actor=row.actor,
                        actor_office=row.actor_office, at=row.at)


def handlings_of(session: Session, alert_ids: Iterable[str]) -> dict[str, list[HandlingLine]]:
    """The handling records of ``alert_ids``, oldest first, by alert (an alert without any is absent)."""
    ids = list(dict.fromkeys(alert_ids))
    found: dict[str, list[HandlingLine]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(select(Handling).where(Handling.alert_id.in_(ids[start:start + 500]))
                               .order_by(Handling.at, Handling.id)).scalars()
        for row in rows:
            found.setdefault(row.alert_id, []).append(_line(row))
    return found


def describe(line: HandlingLine) -> str:
    """``辟谣：……（县纪委监委官方网站）`` — the kind, what, and with whom or to whom."""
    if line.kind == "线索移交":
        return f"线索移交{line.office}：{line.text}" + (f"（任务#{line.task_id}）" if line.task_id else "")
    if line.kind == "协同":
        return f"协同{line.partner}：{line.text}"
    return f"{line.kind}：{line.text}" + (f"（{line.link}）" if line.link else "")


def _check_link(link: str | None) -> str | None:
    if not link:
        return None
    parts = urlsplit(link.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IllegalTransition(f"--link {link!r}: give the address where it was published (http:// or https://)")
    return link.strip()


class Handlings:
    """Records handling in the frame of a workflow action; raises IllegalTransition (a kind or a
    field missing, a finished alert), UnknownOffice/UnknownUnit (an office or partner not
    configured) and Forbidden (an office recording on another office's alert)."""

    def __init__(self, config: AlertingConfig, workflow: Workflow):
        self.config = config
        self.workflow = workflow
        self.directory = Directory(config.directory)

    def record(self, alert_id: str, actor, kind: str, text: str, link: str | None = None,
               office: str | None = None, partner: str | None = None) -> int:
        """Record one act of ``kind`` (see the module docstring); returns the record's id."""
        if kind not in HANDLING_KINDS:
            raise IllegalTransition(f"--kind {kind!r}: one of {'、'.join(HANDLING_KINDS)}")
        if not text.strip():
            raise IllegalTransition(f"say what was done (--text): a {kind} without its content is not a record")
        link = _check_link(link)
        if kind == "线索移交":
            if not office:
                raise IllegalTransition("线索移交 needs the receiving office (--office 案管室)")
            self.workflow.access.check_office(office)
        if kind == "协同":
            partner = self._partner(partner)
        with self.workflow.acting(alert_id, actor, "handle", coordinator=False) as a:
            if not (self.workflow.access.coordinates(actor) or actor.office == a.alert.office):
                raise Forbidden(f"{actor.name} ({actor.office or 'no office'}) may not record handling of "
                                f"{alert_id}: that is for {a.alert.office} or {self.config.coordinating_office}")
            if a.alert.state not in OPEN_STATES:
                raise IllegalTransition(f"alert {alert_id} is finished ({a.alert.state}); handling is recorded "
                                        "while it is open")
            task_id = None
            if kind == "线索移交":
                due = a.now + self.config.clocks.clue
                task_id, deadline = self.workflow.open_task(a, "clue", f"线索移交：{text.strip()}", office, "", due)
                subject, body = messages.clue_handed(a.alert, office, text.strip(), due, self.config.console_url)
                self.workflow.notifier.notify(a.session, a.alert, f"clue:{task_id}", subject, body, a.now,
                                              offices=[office], any_level=True, deadline=deadline)
            row = Handling(alert_id=alert_id, kind=kind, text=text.strip(), link=link,
                           office=office if kind == "线索移交" else "", partner=partner or "", task_id=task_id,
                           actor=actor.name, actor_office=actor.office, at=a.now)
            a.session.add(row)
            a.session.flush()
            a.extra.update(handling=row.id, kind=kind, text=row.text, link=link, office=row.office,
                           partner=row.partner, task=task_id)
        return row.id

    def _partner(self, name: str | None) -> str:
        unit = self.directory.unit(name or "")
        if unit is None or unit.kind != "partner":
            valid = "、".join(u.name for u in self.directory.partners)
            raise UnknownUnit(f"协同 --partner {name!r} is not a partner of the directory; one of: {valid} "
                              "(directory in alerting.yaml, kind: partner)")
        return unit.name
