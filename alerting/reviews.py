"""The coordinating group's review of briefings (例会通报审批): approve, or return for rework with a note.

A briefing is the files that ``yuqing report`` and the scheduled BriefingJob write to the
briefings folder, named by their stem (``舆情日报-2026-11-26`` for ``.html`` and ``.pdf``). Its
state, from the files' times and its review (:func:`review_state`)::

    pending   待审批  its files exist and no review covers them: never reviewed, or a file was
                      written after the last review (a returned briefing made again; an approved
                      one made again too, since what was approved is no longer what is there)
    approved  已批准  approved after its newest file was written; final until a new version
    returned  已退回  returned with a note and not made again since; the head may still approve it

Only the coordinating group decides, by the same rule as approving a proposal (Forbidden otherwise).
Each decision replaces the briefing's row in ``briefing_reviews`` and appends one audit entry
(``briefing_approve`` / ``briefing_return``, with the SHA-256 of the files decided on) in the
same transaction.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from sqlalchemy import select

from alerting import audit
from alerting.access import Access
from alerting.clock import Clock
from alerting.errors import IllegalTransition, NotFound
from alerting.store import Store
from alerting.store.models import BriefingReview
from pipeline.records import beijing_minute

__all__ = ["BriefingReviews", "REVIEW_LABELS", "briefing_files", "file_time", "newest", "review_state"]

REVIEW_LABELS = {"pending": "待审批", "approved": "已批准", "returned": "已退回"}
#: the files of a briefing, as the console lists them
SUFFIXES = ("html", "pdf")
_NAME = re.compile(r"^[\w\-][\w.\-]*$")


def briefing_files(folder: Path | None, name: str) -> list[Path]:
    """The files of briefing ``name`` directly inside ``folder`` ([] when none, or for a name
    that is not a plain file stem)."""
    if folder is None or not _NAME.match(name):
        return []
    return [path for path in (folder / f"{name}.{suffix}" for suffix in SUFFIXES) if path.is_file()]


def file_time(mtime: float) -> datetime:
    return datetime.fromtimestamp(mtime, timezone.utc)


def newest(files: Iterable[Path]) -> datetime:
    """When the newest of ``files`` was written (what a review is compared against)."""
    return file_time(max(path.stat().st_mtime for path in files))


def review_state(review: BriefingReview | None, modified: datetime) -> str:
    """``pending`` (待审批) when there is no review or a file was written after it (``modified``
    is the newest file's time); otherwise the review's own state, ``approved`` or ``returned``."""
    if review is None or modified > review.modified:
        return "pending"
    return review.state


def _snapshot(review: BriefingReview) -> dict:
    return {"briefing": review.name, "state": review.state, "actor": review.actor, "at": review.at,
            "note": review.note, "modified": review.modified}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class BriefingReviews:
    """The coordinating group's decisions on briefings, recorded in ``store`` at ``clock``'s time.
    ``folder`` is where the briefings are (``DATA_DIR/briefings``).

    Both decisions raise Forbidden for anyone but the coordinating group, NotFound for a name with no
    file in ``folder``, and IllegalTransition when the briefing was already decided that way
    (approving twice, returning twice) or, for a return, when the note is empty.
    """

    def __init__(self, store: Store, clock: Clock, access: Access):
        self.store = store
        self.clock = clock
        self.access = access

    def approve_briefing(self, name: str, actor, folder: Path | None, note: str = "") -> BriefingReview:
        """批准: the briefing may go out as it is."""
        return self._review_briefing(name, actor, folder, "approved", note)

    def return_briefing(self, name: str, actor, folder: Path | None, note: str) -> BriefingReview:
        """退回: the briefing is to be made again; ``note`` says what to change (required)."""
        return self._review_briefing(name, actor, folder, "returned", note)

    def briefing_reviews(self, names: Iterable[str] | None = None) -> dict[str, BriefingReview]:
        """The latest review of each briefing by name (of ``names`` only, when given)."""
        with self.store.session() as session:
            query = select(BriefingReview)
            if names is not None:
                query = query.where(BriefingReview.name.in_(list(names)))
            return {review.name: review for review in session.execute(query).scalars()}

    def _review_briefing(self, name: str, actor, folder: Path | None, decision: str, note: str) -> BriefingReview:
        verb = "approve" if decision == "approved" else "return"
        self.access.require_leader(actor, f"{verb} a briefing")
        files = briefing_files(folder, name)
        if not files:
            raise NotFound(f"no briefing {name!r} in {folder or 'the briefings folder'}; "
                           "make one with: yuqing report daily|weekly|range")
        note = note.strip()
        if decision == "returned" and not note:
            raise IllegalTransition(f"say what to rework when returning briefing {name} (--note): "
                                    "it goes back to whoever makes it and is kept in the audit log")
        modified = newest(files)
        now = self.clock.now()
        with self.store.session() as session:
            review = session.execute(select(BriefingReview).where(BriefingReview.name == name)
                                     .with_for_update()).scalar_one_or_none()
            state = review_state(review, modified)
            if state == "approved" or state == decision:
                raise IllegalTransition(
                    f"briefing {name} was already {state} ({REVIEW_LABELS[state]}) by {review.actor} at "
                    f"{beijing_minute(review.at)}; it is decided again once a new version is made (yuqing report)")
            before = _snapshot(review) if review is not None else None
            if review is None:
                review = BriefingReview(name=name)
                session.add(review)
            review.state, review.actor, review.at, review.note, review.modified = (
                decision, actor.name, now, note, modified)
            session.flush()
            audit.append(session, now, actor.name, f"briefing_{verb}", None, before,
                         {**_snapshot(review), "files": {path.name: _sha256(path) for path in files}})
        return review
