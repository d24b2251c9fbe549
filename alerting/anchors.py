"""The audit log's head, anchored outside the database (审计锚点).

A chain kept in the database can be cut at the tail, or wiped, by anyone who can write to the
database: the head row is rewritten with it and the chain still checks. So the head is written
down elsewhere as it goes: a line in an append-only file (``store.audit_anchors``, by default
``DATA_DIR/audit-anchors.log``) once a day and whenever a briefing is made, and the count and
head hash are printed in every briefing, which leaves the building. :func:`check` compares the log
with every anchor: an anchored entry that is gone, or is no longer the entry anchored, is reported.

One line an anchor, never rewritten::

    2026-11-27T00:05:00+08:00 seq=1841 head=5c0e…e2 daily
    2026-11-27T07:31:12+08:00 seq=1847 head=91ab…07 briefing 舆情日报-2026-11-26
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from alerting import audit
from alerting.audit import AuditProblem
from alerting.store import Store
from alerting.store.models import AuditEntry
from pipeline.errors import ConfigError
from pipeline.records import SHANGHAI

__all__ = ["Anchor", "take", "write", "read", "check", "AnchorJob"]

_LINE = re.compile(r"^(?P<at>\S+) seq=(?P<seq>\d+) head=(?P<head>[0-9a-f]{64}) (?P<reason>.+)$")


@dataclass(frozen=True)
class Anchor:
    """The chain's head at ``at``: entry ``seq`` with hash ``head``; ``reason`` says why it was taken."""

    at: datetime
    seq: int
    head: str
    reason: str

    def line(self) -> str:
        return f"{self.at.astimezone(SHANGHAI).isoformat(timespec='seconds')} seq={self.seq} head={self.head} {self.reason}"


def take(session: Session, now: datetime, reason: str) -> Anchor:
    """The head of the log as it is in ``session`` now."""
    seq, head = audit.head(session)
    return Anchor(now, seq, head, reason)


def write(path: Path, anchor: Anchor) -> None:
    """Append ``anchor`` to the file at ``path`` (made if missing), synced to disk: a line is
    added, never a line changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (anchor.line() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[Anchor]:
    """Every anchor in the file; ConfigError naming ``FILE:LINE`` for a line that is not one."""
    anchors, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        try:
            if match is None:
                raise ValueError("expected 'TIME seq=N head=HASH REASON'")
            at = datetime.fromisoformat(match["at"])
            if at.tzinfo is None:
                raise ValueError("the time has no zone")
        except ValueError as exc:
            problems.append(f"{path}:{number}: not an anchor line ({exc}); the file is written by yuqing only")
            continue
        anchors.append(Anchor(at, int(match["seq"]), match["head"], match["reason"]))
    if problems:
        raise ConfigError(problems)
    return anchors


def check(session: Session, anchors: list[Anchor]) -> list[AuditProblem]:
    """The log against ``anchors``: every anchored entry must still be there, unchanged."""
    problems = []
    for anchor in anchors:
        if anchor.seq == 0:
            continue  # anchored while the log was empty: nothing to find
        entry = session.get(AuditEntry, anchor.seq)
        when = f"{anchor.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} ({anchor.reason})"
        if entry is None:
            problems.append(AuditProblem(anchor.seq, f"anchored on {when} but no longer in the log: "
                                                     "entries were removed and the head rewritten"))
        elif entry.hash != anchor.head:
            problems.append(AuditProblem(anchor.seq, f"is not the entry anchored on {when}: the chain "
                                                     "was rewritten from here or before"))
    return problems


class AnchorJob:
    """Write the daily anchor line (once per Beijing day, at the first tick after ``at_hour``);
    called by the :class:`alerting.timekeeper.Ticker` with the current time."""

    def __init__(self, store: Store, path: Path, at_hour: int = 0):
        self.store = store
        self.path = path
        self.at_hour = at_hour

    def _written_today(self, day: str) -> bool:
        if not self.path.exists():
            return False
        return any(line.startswith(day) and line.endswith(" daily")
                   for line in self.path.read_text(encoding="utf-8").splitlines()[-50:])

    def __call__(self, now: datetime) -> Anchor | None:
        local = now.astimezone(SHANGHAI)
        if local.hour < self.at_hour or self._written_today(local.date().isoformat()):
            return None
        with self.store.session() as session:
            anchor = take(session, now, "daily")
        write(self.path, anchor)
        return anchor
