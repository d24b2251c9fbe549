"""The notification outbox: messages are rows first, deliveries second.

:func:`queue` writes one row per channel inside the transaction of the action that caused it, under a
unique key (``opened:Y3F…:mail``, ``timer:17:ding``), so an action retried after a crash queues
nothing twice. :func:`deliver_due` sends what is due: a failure is kept, counted and retried with
backoff (30 s doubling up to ``notify.max_retry_interval``), and shown on the alert; nothing is
ever dropped. Level-1 items routed as digests are held and merged into one message per channel at
the digest times; quiet hours and the minimum interval hold back low levels only, never an item
under the 1-hour rule.

Delivery is at least once: a process killed between a send and its record sends that one message
again after the claim (``LEASE``) runs out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.config import Notify
from alerting.notify.base import Channel, DeliveryError, Notification as Message
from alerting.store import Store
from alerting.store.models import Notification
from pipeline import metrics
from pipeline.records import SHANGHAI

__all__ = ["queue", "deliver_due", "DeliveryReport", "LEASE"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)


def _next_local(now: datetime, times: list[time]) -> datetime:
    """The next moment at or after ``now`` that is one of ``times`` (Beijing time)."""
    local = now.astimezone(SHANGHAI)
    candidates = []
    for day in (0, 1):
        for at in times:
            moment = datetime.combine(local.date() + timedelta(days=day), at, tzinfo=SHANGHAI)
            if moment >= local:
                candidates.append(moment)
    return min(candidates)


def _quiet_until(now: datetime, settings: Notify) -> datetime | None:
    quiet = settings.quiet_hours
    if quiet is None:
        return None
    clock = now.astimezone(SHANGHAI).time()
    inside = (quiet.start <= clock < quiet.end) if quiet.start < quiet.end else (clock >= quiet.start or clock < quiet.end)
    return _next_local(now, [quiet.end]) if inside else None


def queue(session: Session, settings: Notify, *, key: str, channels: list[str], subject: str,
          body: str, level: int, now: datetime, alert_id: str | None = None,
          mode: str = "immediate", urgent: bool = False) -> int:
    """Queue ``subject``/``body`` for each channel; returns how many rows were new.

    ``urgent`` marks an item under the 1-hour rule (or an escalation): never held by quiet hours or
    the minimum interval, whatever its level.
    """
    added = 0
    for channel in dict.fromkeys(channels):
        row_key = f"{key}:{channel}"
        if session.execute(select(Notification.id).where(Notification.key == row_key)).first():
            continue
        status, at = "pending", now
        low = not urgent and level <= (settings.quiet_hours.max_level if settings.quiet_hours else 1)
        if mode == "digest" and not urgent:
            status, at = "digest", _next_local(now, settings.digest_times)
        elif low:
            quiet = _quiet_until(now, settings)
            if quiet is not None:
                at = quiet
            if settings.min_interval and level <= 1:
                last = session.execute(
                    select(func.max(Notification.next_attempt_at)).where(
                        Notification.channel == channel, Notification.level <= 1,
                        Notification.status.in_(("pending", "sent")))
                ).scalar()
                if last is not None:
                    at = max(at, last + settings.min_interval)
        session.add(Notification(key=row_key, alert_id=alert_id, channel=channel, level=level,
                                 subject=subject, body=body, status=status, attempts=0,
                                 next_attempt_at=at, created_at=now))
        added += 1
    session.flush()
    return added


def _merge_digests(session: Session, now: datetime) -> None:
    """Turn held level-1 items whose digest time has come into one message per channel."""
    held = session.execute(
        select(Notification).where(Notification.status == "digest", Notification.next_attempt_at <= now)
        .order_by(Notification.channel, Notification.created_at)
    ).scalars().all()
    by_channel: dict[tuple[str, datetime], list[Notification]] = {}
    for row in held:
        by_channel.setdefault((row.channel, row.next_attempt_at), []).append(row)
    for (channel, slot), rows in by_channel.items():
        local = slot.astimezone(SHANGHAI)
        subject = f"【舆情摘要】{local:%m月%d日 %H:%M} 一般舆情 {len(rows)} 条"
        body = "\n\n".join(f"{i}. {row.subject}\n{row.body}" for i, row in enumerate(rows, 1))
        key = f"digest:{local:%Y%m%d%H%M}:{channel}"
        if not session.execute(select(Notification.id).where(Notification.key == key)).first():
            session.add(Notification(key=key, alert_id=None, channel=channel, level=1, subject=subject,
                                     body=body, status="pending", attempts=0, next_attempt_at=now,
                                     created_at=now))
        for row in rows:
            row.status = "merged"


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def deliver_due(store: Store, settings: Notify, channels: dict[str, Channel], now: datetime,
                limit: int = 50) -> DeliveryReport:
    """Send every message due at ``now`` (claimed for :data:`LEASE` first, so two tickers never send
    the same row at once); record each outcome."""
    with store.session() as session:
        _merge_digests(session, now)
        query = (select(Notification).where(Notification.status == "pending",
                                            Notification.next_attempt_at <= now)
                 .order_by(Notification.level.desc(), Notification.next_attempt_at).limit(limit))
        if store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = session.execute(query).scalars().all()
        for row in due:
            row.next_attempt_at = now + LEASE
        claimed = [(row.id, row.channel, Message(subject=row.subject, body=row.body, level=row.level,
                                                 alert_id=row.alert_id, url=None)) for row in due]
    report = DeliveryReport()
    for row_id, channel_name, message in claimed:
        channel = channels.get(channel_name)
        error: str | None = None
        # a refusal that needs a person (wrong key, bad signature) is still retried, but at the
        # slowest pace: the message stays on the alert until someone fixes the channel
        needs_person = False
        if channel is None:
            error = f"channel {channel_name!r} is not configured (notify.channels in alerting.yaml)"
            needs_person = True
        else:
            try:
                channel.send(message)
            except DeliveryError as exc:
                error, needs_person = str(exc), not exc.retryable
        with store.session() as session:
            row = session.get(Notification, row_id)
            row.attempts += 1
            metrics.NOTIFICATIONS.labels(channel_name, "sent" if error is None else "failed").inc()
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                report.sent += 1
            else:
                delay = settings.max_retry_interval if needs_person else \
                    min(FIRST_RETRY * 2 ** (row.attempts - 1), settings.max_retry_interval)
                row.next_attempt_at, row.last_error = now + delay, error
                report.failed += 1
                log.warning("notification_failed channel=%s key=%s attempt=%d error=%s",
                            channel_name, row.key, row.attempts, error)
    return report
