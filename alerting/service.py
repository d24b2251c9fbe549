"""The alert service: one object through which the stream, the command line and the console reach
the alerts, so that every change is checked and recorded the same way.

It builds the parts, each with one job, around one store, one ``alerting.yaml`` and one clock::

    access.py      Access      who may see and do what (one place for every permission)
    notifier.py    Notifier    which offices and channels hear of an alert (outbox rows)
    timekeeper.py  Timekeeper  the 1-hour / 2-hour clocks: started, reminders, escalations, tick()
    intake.py      Intake      scored articles into alerts, one per story; spread and volume
    workflow.py    Workflow    the actions of 研判预警 and 即时会商, each audited
    queries.py     Queries     the queue, one alert in full, the open deadlines
    dismissals.py  Dismissals  排除误报: a proposal the 组长 decides from 较大 up
    reviews.py     BriefingReviews   the coordinating group approves or returns briefings
    chain.py       ReportChain  上报: to the directory's units, level by level, receipts confirmed
    handling.py    Handlings  舆情处置: 回应/澄清/辟谣/信息发布, 线索移交, 协同
    special.py     SpecialReports  舆情专报 (首报, 续报, 结报) as DOCX and PDF, each one logged

and offers their public methods under one name (``service.judge``, ``service.ingest``,
``service.tick`` ...). Code that needs one part only may use it directly (``service.workflow``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from alerting import audit
from alerting.access import Access, Actor
from alerting.chain import ReportChain
from alerting.clock import Clock, SystemClock
from alerting.config import STATE_LABELS, AlertingConfig
from alerting.dismissals import Dismissals
from alerting.drills import DrillReport, drill_article, drill_report
from alerting.errors import Forbidden
from alerting.handling import Handlings
from alerting.intake import Intake
from alerting.notifier import Notifier
from alerting.notify.base import Channel
from alerting.petitions import Petitions
from alerting.queries import HISTORY_WORDS, AlertDetail, Queries
from alerting.reviews import BriefingReviews
from alerting.routing import Proposal
from alerting.special import SpecialReports, Written
from alerting.store import Store
from alerting.store.models import Alert, BriefingReview, Deadline, Dismissal
from alerting.timekeeper import TickReport, Timekeeper
from alerting.workflow import FeedbackHook, TaskSpec, Workflow
from pipeline.records import ScoredArticle

__all__ = ["AlertService", "AlertDetail", "TickReport"]


class AlertService:
    """The parts above around ``store`` and ``config``; time from ``clock`` (the system clock by
    default). ``channels`` default to those built from ``config.notify``; ``on_dismiss`` records a
    false alarm's articles for the classifier's next training."""

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock | None = None,
                 channels: dict[str, Channel] | None = None, on_dismiss: FeedbackHook | None = None):
        self.store = store
        self.config = config
        self.clock = clock or SystemClock()
        self.access = Access(config)
        self.notifier = Notifier(config)
        self.timekeeper = Timekeeper(store, config, self.clock, self.notifier, channels)
        self.intake = Intake(store, config, self.clock, self.notifier, self.timekeeper)
        self.workflow = Workflow(store, config, self.clock, self.access, self.notifier, self.timekeeper,
                                 on_dismiss)
        self.dismissals = Dismissals(store, config, self.clock, self.access, self.notifier, self.workflow)
        self.queries = Queries(store, self.access)
        self.reviews = BriefingReviews(store, self.clock, self.access)
        self.petitions = Petitions(store, self.clock, self.access)
        self.chain = ReportChain(config, self.workflow)
        self.handlings = Handlings(config, self.workflow)
        self.special = SpecialReports(store, config, self.clock, self.workflow)

    @property
    def channels(self) -> dict[str, Channel]:
        return self.timekeeper.channels

    # ---- who may do what (Access) --------------------------------------------------------------

    def check_office(self, office: str) -> str:
        return self.access.check_office(office)

    def coordinates(self, actor: Actor) -> bool:
        return self.access.coordinates(actor)

    def visible_filter(self, actor: Actor):
        return self.access.visible_filter(actor)

    # ---- the stream (Intake) and time (Timekeeper) ---------------------------------------------

    def ingest(self, article: ScoredArticle) -> str | None:
        return self.intake.ingest(article)

    def ingest_many(self, articles: list[ScoredArticle]) -> list[str | None | Exception]:
        return self.intake.ingest_many(articles)

    def hand_in(self, article: ScoredArticle, proposal: Proposal, actor: Actor) -> str | None:
        """报送: an item ``proposal.office`` found, already scored, into the queue (see
        :meth:`alerting.intake.Intake.hand_in`). An office hands in its own finds; the
        coordinating office and the coordinating group may hand in for any office."""
        self.access.check_office(proposal.office)
        if actor.office != proposal.office and not self.access.coordinates(actor):
            raise Forbidden(f"{actor.name} ({actor.office or 'no office'}) may not hand in for {proposal.office}; "
                            "hand it in for your own office")
        return self.intake.hand_in(article, proposal, actor)

    def check_petition(self, actor: Actor, channel: str, summary: str, received_at) -> None:
        self.petitions.check(actor, channel, summary, received_at)

    def record_petition(self, alert_id: str, actor: Actor, channel: str, summary: str, received_at,
                        named: bool = False) -> int:
        return self.petitions.record(alert_id, actor, channel, summary, received_at, named)

    def start_drill(self, scenario: str, level: int, office: str, actor: Actor) -> str:
        """演练: open a drill alert for ``office`` at ``level`` from ``scenario`` (see
        :mod:`alerting.drills`), on this service's clock. For the coordinating office and the
        coordinating group; ValueError for an empty scenario or a level outside 1-3."""
        self.access.require_coordinator(actor, "start a drill")
        self.access.check_office(office)
        now = self.clock.now()
        article = drill_article(scenario, level, office, now)
        with self.store.session() as session:
            alert_id = self.intake.ingest_in(session, article, now)
            audit.append(session, now, actor.name, "drill_start", alert_id, None,
                         {"scenario": scenario, "level": level, "office": office})
        return alert_id

    def drill_report(self, alert_id: str, actor: Actor) -> DrillReport:
        """What was done in the drill, when, against which deadline, and the late steps."""
        with self.store.session() as session:
            alert = self.access.load(session, alert_id, actor)
            return drill_report(session, alert, self.clock.now(), HISTORY_WORDS, STATE_LABELS)

    def tick(self, deliver: bool = True) -> TickReport:
        return self.timekeeper.tick(deliver)

    # ---- reading (Queries) ---------------------------------------------------------------------

    def list(self, actor: Actor, states: Iterable[str] | None = None, office: str | None = None,
             min_level: int = 1, limit: int = 200) -> list[Alert]:
        return self.queries.list(actor, states, office, min_level, limit)

    def queue(self, actor: Actor, **filters) -> list[tuple[Alert, Deadline | None]]:
        return self.queries.queue(actor, **filters)

    def show(self, alert_id: str, actor: Actor) -> AlertDetail:
        return self.queries.show(alert_id, actor)

    def open_deadlines(self, actor: Actor) -> list[tuple[Deadline, Alert]]:
        return self.queries.open_deadlines(actor)

    def verify_audit(self) -> tuple[int, list[audit.AuditProblem]]:
        return self.queries.verify_audit()

    # ---- the workflow (Workflow) ---------------------------------------------------------------

    def ack(self, alert_id: str, actor: Actor) -> str:
        return self.workflow.ack(alert_id, actor)

    def complete_task(self, task_id: int, actor: Actor, result: str) -> str:
        return self.workflow.complete_task(task_id, actor, result)

    def judge(self, alert_id: str, actor: Actor, note: str, level: int | None = None,
              office: str | None = None, overall: bool | None = None, emergency: bool | None = None) -> str:
        return self.workflow.judge(alert_id, actor, note, level, office, overall, emergency)

    def escalate(self, alert_id: str, actor: Actor, note: str, level: int | None = None,
                 emergency: bool = False, overall: bool = False, local: bool = False) -> str:
        return self.workflow.escalate(alert_id, actor, note, level, emergency, overall, local)

    def assign(self, alert_id: str, actor: Actor, office: str, note: str = "") -> str:
        return self.workflow.assign(alert_id, actor, office, note)

    def warn(self, alert_id: str, actor: Actor, offices: list[str], note: str = "", within=None) -> list[int]:
        return self.workflow.warn(alert_id, actor, offices, note, within)

    def consult(self, alert_id: str, actor: Actor, tasks: list[TaskSpec]) -> list[int]:
        return self.workflow.consult(alert_id, actor, tasks)

    def deep_judge(self, alert_id: str, actor: Actor, note: str) -> str:
        return self.workflow.deep_judge(alert_id, actor, note)

    def propose(self, alert_id: str, actor: Actor, proposal: str) -> str:
        return self.workflow.propose(alert_id, actor, proposal)

    def approve(self, alert_id: str, actor: Actor, note: str = "") -> str:
        return self.workflow.approve(alert_id, actor, note)

    def close(self, alert_id: str, actor: Actor, note: str) -> str:
        return self.workflow.close(alert_id, actor, note)

    def exempt(self, alert_id: str, actor: Actor, deadline_key: str, reason: str) -> str:
        return self.workflow.exempt(alert_id, actor, deadline_key, reason)

    # ---- dismissals (Dismissals) ---------------------------------------------------------------

    def dismiss(self, alert_id: str, actor: Actor, reason: str) -> str:
        """``dismissed`` at once, or ``proposed`` for the 组长 (较大 and 重大 by an office)."""
        return self.dismissals.request(alert_id, actor, reason)

    def approve_dismissal(self, alert_id: str, actor: Actor, note: str = "") -> str:
        return self.dismissals.approve(alert_id, actor, note)

    def return_dismissal(self, alert_id: str, actor: Actor, note: str) -> str:
        return self.dismissals.refuse(alert_id, actor, note)

    def waiting_dismissals(self, actor: Actor) -> list[tuple[Dismissal, Alert]]:
        return self.dismissals.waiting(actor)

    # ---- reporting upward (ReportChain) and handling (Handlings) -------------------------------

    def report(self, alert_id: str, actor: Actor, recipients: list[str] | None = None, note: str = "",
               skip_reason: str = "") -> list[str]:
        return self.chain.report(alert_id, actor, recipients, note, skip_reason)

    def confirm_receipt(self, alert_id: str, actor: Actor, unit: str, by: str, via: str, note: str = "") -> int:
        return self.chain.confirm(alert_id, actor, unit, by, via, note)

    def handle(self, alert_id: str, actor: Actor, kind: str, text: str, link: str | None = None,
               office: str | None = None, partner: str | None = None) -> int:
        return self.handlings.record(alert_id, actor, kind, text, link, office, partner)

    def special_report(self, alert_id: str, actor: Actor, kind: str, out_dir: Path,
                       source_names: dict[str, str] | None = None, next_steps: list[str] | None = None) -> Written:
        return self.special.make(alert_id, actor, kind, out_dir, source_names, next_steps)

    def advance(self, alert_id: str, actor: Actor, to: str, note: str = "", **options) -> str:
        if to == "dismissed":  # dismissing may need the 组长: it goes through Dismissals
            self.dismissals.request(alert_id, actor, note)
            return alert_id
        return self.workflow.advance(alert_id, actor, to, note, **options)

    # ---- briefings (BriefingReviews) -----------------------------------------------------------

    def approve_briefing(self, name: str, actor: Actor, folder: Path | None, note: str = "") -> BriefingReview:
        return self.reviews.approve_briefing(name, actor, folder, note)

    def return_briefing(self, name: str, actor: Actor, folder: Path | None, note: str) -> BriefingReview:
        return self.reviews.return_briefing(name, actor, folder, note)

    def briefing_reviews(self, names: Iterable[str] | None = None) -> dict[str, BriefingReview]:
        return self.reviews.briefing_reviews(names)
