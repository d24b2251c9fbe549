"""The accountability record: every action, who did it, when, and the state before and after.

Entries form a hash chain: ``hash = sha256(prev_hash || canonical JSON of the entry)``, the first
entry chaining to 64 zeros. :func:`append` takes the chain's head row under a lock (``FOR UPDATE``
on PostgreSQL; SQLite transactions here are ``BEGIN IMMEDIATE``), so concurrent writers take turns
and the sequence has no gaps. :func:`verify` recomputes the chain: an edited entry breaks its own
hash, a deleted one breaks the sequence and the next entry's link, a truncated tail disagrees with
the head row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.store.models import Alert, AuditEntry, AuditHead

__all__ = ["append", "verify", "entries", "snapshot", "GENESIS", "AuditProblem"]

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO strings, so what is hashed is exactly what is stored."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def _digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str,
            alert_id: str | None, before: Any, after: Any) -> str:
    body = json.dumps(
        {"seq": seq, "at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"), "actor": actor, "action": action,
         "alert_id": alert_id, "before": before, "after": after},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def snapshot(alert: Alert) -> dict:
    """What an entry records of an alert's state, before and after an action."""
    return {"state": alert.state, "level": alert.level, "office": alert.office,
            "emergency": alert.emergency, "overall": alert.overall,
            "warned_offices": list(alert.warned_offices or [])}


def append(session: Session, at: datetime, actor: str, action: str, alert_id: str | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add one entry at the end of the chain, inside the caller's transaction (so the action and
    its record commit together or not at all)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    before, after = _plain(before), _plain(after)
    seq = head.seq + 1
    digest = _digest(head.hash, seq, at, actor, action, alert_id, before, after)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, alert_id=alert_id,
                       before=before, after=after, prev_hash=head.hash, hash=digest)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit_log seq {self.seq}: {self.problem}"


def verify(session: Session) -> tuple[int, list[AuditProblem]]:
    """Check the whole chain; returns (entries checked, problems found: empty when intact)."""
    problems: list[AuditProblem] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        count += 1
        if entry.seq != expected_seq:
            problems.append(AuditProblem(expected_seq, f"missing (next entry present is seq {entry.seq}): "
                                                       "entries were deleted"))
        if entry.prev_hash != expected_prev:
            problems.append(AuditProblem(entry.seq, "does not link to the entry before it"))
        recomputed = _digest(entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action,
                             entry.alert_id, entry.before, entry.after)
        if recomputed != entry.hash:
            problems.append(AuditProblem(entry.seq, f"content changed after it was written "
                                                    f"({entry.action} by {entry.actor})"))
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        problems.append(AuditProblem(head.seq, f"the chain ends at seq {expected_seq - 1} but its head "
                                               f"records seq {head.seq}: the last entries were removed"))
    return count, problems


def entries(session: Session, alert_id: str | None = None) -> Iterator[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if alert_id is not None:
        query = query.where(AuditEntry.alert_id == alert_id)
    yield from session.execute(query).scalars()
