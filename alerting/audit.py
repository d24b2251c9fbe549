"""The accountability record (问责留痕): every action, who did it, when, and the state before and after.

Entries form a chain: each entry's ``hash`` covers the previous entry's hash and its own canonical
JSON, the first entry chaining to 64 zeros. With an :class:`AuditKey` (a secret kept outside the
database: a key file readable only by the service account, or ``YUQING_AUDIT_KEY``) the hash is an
HMAC-SHA256 under that key from the key's ``since`` entry on, so someone who can write to the
database but does not hold the key cannot recompute the chain after changing, removing or forging
an entry. Entries before ``since`` (written before the key existed) keep plain SHA-256.

:func:`append` takes the chain's head row under a lock (``FOR UPDATE`` on PostgreSQL; SQLite
transactions here are ``BEGIN IMMEDIATE``), so concurrent writers take turns and the sequence has
no gaps; the key comes with the session (``Store(audit_key=...)``). :func:`verify` recomputes the
chain: an edited entry breaks its own hash, a deleted one breaks the sequence and the next entry's
link, a truncated tail disagrees with the head row. What a database writer could still do — cut
the tail and rewrite the head, or wipe everything — is caught by the anchors kept outside the
database (:mod:`alerting.anchors`), and an alert whose state was changed with no entry is caught by
comparing every alert with the last state the log recorded for it (:func:`verify_states`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.store.models import Alert, AuditEntry, AuditHead
from pipeline.errors import ConfigError

__all__ = ["append", "verify", "verify_states", "entries", "snapshot", "head", "GENESIS", "AuditProblem",
           "AuditKey", "load_key", "create_key", "STATE_FIELDS"]

GENESIS = "0" * 64

#: what the log records of an alert and verify_states compares with the alert as it is
STATE_FIELDS = ("state", "level", "office")


@dataclass(frozen=True)
class AuditKey:
    """The secret of the chain: ``secret`` bytes, in force from entry ``since`` on."""

    secret: bytes
    since: int = 1

    def __repr__(self) -> str:  # never print the secret
        return f"AuditKey(since={self.since})"


def _decode_key(text: str, where: str) -> AuditKey:
    """``BASE64`` or ``BASE64:SINCE``; ConfigError naming ``where`` otherwise."""
    secret_text, _, since_text = text.strip().partition(":")
    try:
        secret = base64.b64decode(secret_text, validate=True)
        since = int(since_text) if since_text else 1
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: not an audit key; it holds BASE64 or BASE64:FIRST_ENTRY "
                          "(yuqing makes the file itself when it is missing)") from None
    if len(secret) < 32 or since < 1:
        raise ConfigError(f"{where}: an audit key needs at least 32 bytes of secret and a first entry >= 1")
    return AuditKey(secret, since)


def load_key(path: Path | None, env_value: str | None = None) -> AuditKey | None:
    """The key from ``env_value`` (``YUQING_AUDIT_KEY``) or from the key file at ``path``; None
    when neither exists. A key file that others may read is refused: the key is only worth
    something while the service account alone holds it."""
    if env_value:
        return _decode_key(env_value, "environment YUQING_AUDIT_KEY")
    if path is None or not path.exists():
        return None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"{path}: the audit key may be read by others (mode {mode:o}); "
                          f"make it readable only by the service account: chmod 600 {path}")
    return _decode_key(path.read_text(encoding="ascii"), str(path))


def create_key(path: Path, since: int) -> AuditKey:
    """Make a new key file at ``path`` (mode 600), in force from entry ``since``; when another
    process made it first, that one is read and returned, so every process agrees on one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AuditKey(secrets.token_bytes(32), since)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(f"{base64.b64encode(key.secret).decode('ascii')}:{since}\n")
        out.flush()
        os.fsync(out.fileno())
    return key


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO strings, so what is hashed is exactly what is stored."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def _digest(key: AuditKey | None, prev_hash: str, seq: int, at: datetime, actor: str, action: str,
            alert_id: str | None, before: Any, after: Any) -> str:
    body = json.dumps(
        {"seq": seq, "at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"), "actor": actor, "action": action,
         "alert_id": alert_id, "before": before, "after": after},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode("utf-8")
    message = prev_hash.encode("ascii") + body
    if key is not None and seq >= key.since:
        return hmac.new(key.secret, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def snapshot(alert: Alert) -> dict:
    """What an entry records of an alert's state, before and after an action."""
    return {"state": alert.state, "level": alert.level, "office": alert.office,
            "emergency": alert.emergency, "overall": alert.overall,
            "warned_offices": list(alert.warned_offices or [])}


def _key_of(session: Session) -> AuditKey | None:
    return session.info.get("audit_key")


def head(session: Session) -> tuple[int, str]:
    """The chain's last entry as (seq, hash); (0, GENESIS) for an empty log."""
    row = session.get(AuditHead, 1)
    return (row.seq, row.hash) if row is not None else (0, GENESIS)


def append(session: Session, at: datetime, actor: str, action: str, alert_id: str | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add one entry at the end of the chain, inside the caller's transaction (so the action and
    its record commit together or not at all)."""
    row = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if row is None:
        row = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(row)
    before, after = _plain(before), _plain(after)
    seq = row.seq + 1
    digest = _digest(_key_of(session), row.hash, seq, at, actor, action, alert_id, before, after)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, alert_id=alert_id,
                       before=before, after=after, prev_hash=row.hash, hash=digest)
    session.add(entry)
    row.seq, row.hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditProblem:
    """One thing verification found wrong; ``seq`` is the entry it concerns (0: the log as a whole)."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit_log seq {self.seq}: {self.problem}" if self.seq else f"audit_log: {self.problem}"


def verify(session: Session, key: AuditKey | None = None) -> tuple[int, list[AuditProblem]]:
    """Check the whole chain with ``key`` (default: the session's); returns (entries checked,
    problems found: empty when intact). A keyed entry checked without its key fails: it is
    reported, never passed."""
    key = key if key is not None else _key_of(session)
    problems: list[AuditProblem] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        count += 1
        if entry.seq != expected_seq:
            problems.append(AuditProblem(expected_seq, f"missing (next entry present is seq {entry.seq}): "
                                                       "entries were deleted"))
        if entry.prev_hash != expected_prev:
            problems.append(AuditProblem(entry.seq, "does not link to the entry before it"))
        recomputed = _digest(key, entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action,
                             entry.alert_id, entry.before, entry.after)
        if recomputed != entry.hash:
            problems.append(AuditProblem(entry.seq, (
                f"content changed after it was written, or the chain recomputed without the audit key "
                f"({entry.action} by {entry.actor})")))
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    row = session.get(AuditHead, 1)
    if row is not None and (row.seq != expected_seq - 1 or row.hash != expected_prev):
        problems.append(AuditProblem(row.seq, f"the chain ends at seq {expected_seq - 1} but its head "
                                              f"records seq {row.seq}: the last entries were removed"))
    return count, problems


def verify_states(session: Session) -> list[AuditProblem]:
    """Every alert as it is now against the last state the log recorded for it: a state, level or
    office changed in the database with no entry, or an alert the log never opened, is reported."""
    problems = []
    last_seq = dict(session.execute(
        select(AuditEntry.alert_id, func.max(AuditEntry.seq)).where(AuditEntry.alert_id.is_not(None))
        .group_by(AuditEntry.alert_id)).all())
    recorded: dict[str, dict] = {}
    # the newest entry of each alert that recorded its state (reminders and escalations do not)
    for entry in session.execute(select(AuditEntry).where(AuditEntry.alert_id.is_not(None))
                                 .order_by(AuditEntry.seq)).scalars():
        after = entry.after or {}
        if all(field in after for field in STATE_FIELDS):
            recorded[entry.alert_id] = {field: after[field] for field in STATE_FIELDS} | {"seq": entry.seq}
    for alert in session.execute(select(Alert).order_by(Alert.id)).scalars():
        logged = recorded.get(alert.id)
        if logged is None:
            problems.append(AuditProblem(0, f"alert {alert.id} ({alert.state}) has no entry in the log: "
                                            "it was made or changed outside yuqing"))
            continue
        changed = [f"{field} is {getattr(alert, field)!r} but the log's last record (seq {logged['seq']}) "
                   f"says {logged[field]!r}" for field in STATE_FIELDS if getattr(alert, field) != logged[field]]
        if changed:
            problems.append(AuditProblem(last_seq.get(alert.id, logged["seq"]),
                                         f"alert {alert.id}: {'; '.join(changed)}: changed with no entry"))
    return problems


def entries(session: Session, alert_id: str | None = None) -> Iterator[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if alert_id is not None:
        query = query.where(AuditEntry.alert_id == alert_id)
    yield from session.execute(query).scalars()
