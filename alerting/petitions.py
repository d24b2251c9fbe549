"""信访室 records letters, visits, calls and online reports (来信/来访/来电/网上举报) as items
linked to alerts.

A petition touching a matter already in the queue is linked to its alert; one about something new
is handed in first (:meth:`alerting.intake.Intake.hand_in`, by the caller, which owns the
classifier) and linked to the alert that opens. Each item is a
:class:`~alerting.store.models.Petition` row and an audit entry, listed on the alert's page.
Recording is 信访室's (the coordinating office and the coordinating group may record for it).
"""

from __future__ import annotations

from datetime import datetime

from alerting import audit
from alerting.access import Access, Actor
from alerting.clock import Clock
from alerting.errors import Forbidden, IllegalTransition
from alerting.store import Store
from alerting.store.models import Petition

__all__ = ["CHANNELS", "PETITION_OFFICE", "Petitions"]

#: the channels the rules name, in their words
CHANNELS = ("来信", "来访", "来电", "网上举报")
#: the office that receives petitions
PETITION_OFFICE = "信访室"


class Petitions:
    """Record petition items (the alert's page lists them: :meth:`alerting.queries.Queries.show`)."""

    def __init__(self, store: Store, clock: Clock, access: Access):
        self.store = store
        self.clock = clock
        self.access = access

    def check(self, actor: Actor, channel: str, summary: str, received_at: datetime) -> None:
        """Refuse, naming what to fix, before anything is written: someone outside 信访室 (and not
        coordinating), an unknown channel, an empty summary, a time in the future or without zone."""
        if actor.office != PETITION_OFFICE and not self.access.coordinates(actor):
            raise Forbidden(f"{actor.name} ({actor.office or 'no office'}) may not record petitions: that is "
                            f"for {PETITION_OFFICE}; hand in what you found with `yuqing alerts new`")
        if channel not in CHANNELS:
            raise IllegalTransition(f"channel {channel!r} is not one of {'、'.join(CHANNELS)}")
        if not summary.strip():
            raise IllegalTransition("say what the petition reports (--summary); the name of whoever reports "
                                    "is not recorded here")
        if received_at.tzinfo is None:
            raise IllegalTransition("the time received needs a time zone (e.g. 2026-12-07T09:30+08:00)")
        if received_at > self.clock.now():
            raise IllegalTransition(f"received {received_at.isoformat()} is in the future; give when it came in")

    def record(self, alert_id: str, actor: Actor, channel: str, summary: str, received_at: datetime,
               named: bool = False) -> int:
        """Link a petition item to ``alert_id``; returns its number. Raises as :meth:`check`
        does, and NotFound/Forbidden for an alert the actor may not see."""
        self.check(actor, channel, summary, received_at)
        now = self.clock.now()
        with self.store.session() as session:
            self.access.load(session, alert_id, actor)
            row = Petition(alert_id=alert_id, channel=channel, received_at=received_at, summary=summary.strip(),
                           named=named, office=PETITION_OFFICE, recorded_by=actor.name, recorded_at=now)
            session.add(row)
            session.flush()
            audit.append(session, now, actor.name, "petition", alert_id, None,
                         {"petition": row.id, "channel": channel, "received_at": received_at,
                          "summary": row.summary, "named": named})
            return row.id
