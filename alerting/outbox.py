"""The notification outbox: messages are rows first, deliveries second.

:func:`queue` writes one row per channel inside the transaction of the action that caused it, under a
unique key (``opened:Y3F…:mail``, ``timer:17:ding``), so an action retried after a crash queues
nothing twice. :func:`deliver_due` sends what is due: a failure is kept, counted and retried, and
shown on the alert; nothing is ever dropped. An urgent message (a clock is running on it, or it is
重大) is retried at the short fixed ``notify.urgent_retry_interval``; others back off from 30 s,
doubling up to ``notify.max_retry_interval``. Level-1 items routed as digests are held and merged
into one message per channel at the digest times; quiet hours and the minimum interval hold back
low levels only, never an urgent message. A message that became moot before it went out (its
deadline met or void, a reminder past its deadline, a digest item raised above 一般) is
withdrawn, not sent late; one that leaves late carries its alert's spread as it is then
(:func:`alerting.messages.current`).

Delivery takes one message at a time: claimed (its ``next_attempt_at`` moved to the end of a
:data:`LEASE`) in a short transaction that other tickers skip, sent, then recorded. Several tick
processes thus each send different messages, and a process that dies holds back only the message
in its hands, until the lease runs out; that one is sent again then (at least once: a send cannot
be undone, so a crash between a send and its record repeats it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting import messages
from alerting.clock import Clock
from alerting.config import Notify
from alerting.notify.base import Channel, DeliveryError, Notification as Message
from alerting.store import Store
from alerting.store.models import Alert, Deadline, Notification
from pipeline import metrics
from pipeline.records import SHANGHAI

__all__ = ["queue", "deliver_due", "DeliveryReport", "LEASE", "alert_link", "STATUS_LABELS"]

log = logging.getLogger(__name__)

#: a message's status as the offices read it (console, command line)
STATUS_LABELS = {"pending": "待发送", "digest": "待汇总", "sent": "已发送", "merged": "已并入摘要",
                 "withdrawn": "已撤回"}

#: how long a claimed message is left to its sender: longer than one send takes (webhooks and bots
#: bound the whole call by the channel's ``timeout_s``, at most 120 s). An e-mail whose every SMTP
#: step crawls to its timeout could outlast it and be sent twice; never lost.
LEASE = timedelta(minutes=3)
FIRST_RETRY = timedelta(seconds=30)
#: messages one deliver_due call sends at most, so that a tick also gets back to the timers
BATCH = 200


def alert_link(console_url: str | None, alert_id: str | None) -> str | None:
    """The alert's page in the console (None without a console address or an alert)."""
    if not console_url or not alert_id:
        return None
    return f"{console_url.rstrip('/')}/alerts/{alert_id}"


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
          mode: str = "immediate", urgent: bool = False, deadline_id: int | None = None,
          expires_at: datetime | None = None) -> int:
    """Queue ``subject``/``body`` for each channel; returns how many rows were new.

    ``urgent`` marks a message whose clock is running (or a 重大 item, an escalation): never
    held by quiet hours, the minimum interval or the digest, whatever its level, and retried at the
    short fixed interval. ``deadline_id`` names the clock the message is about (it is withdrawn
    when that deadline is met or void); ``expires_at`` when it becomes moot (a reminder's deadline).
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
                                 next_attempt_at=at, created_at=now, urgent=urgent,
                                 deadline_id=deadline_id, expires_at=expires_at))
        added += 1
    session.flush()
    return added


def _merge_digests(session: Session, now: datetime) -> None:
    """Turn held level-1 items whose digest time has come into one message per channel; an item
    whose alert was raised above 一般 since (its raise said so at once) or dismissed is withdrawn."""
    held = session.execute(
        select(Notification, Alert).outerjoin(Alert, Alert.id == Notification.alert_id)
        .where(Notification.status == "digest", Notification.next_attempt_at <= now)
        .order_by(Notification.channel, Notification.created_at)
    ).all()
    by_channel: dict[tuple[str, datetime], list[tuple[Notification, Alert | None]]] = {}
    for row, alert in held:
        if alert is not None and (alert.level > row.level or alert.state == "dismissed"):
            row.status = "withdrawn"
            continue
        by_channel.setdefault((row.channel, row.next_attempt_at), []).append((row, alert))
    for (channel, slot), items in by_channel.items():
        local = slot.astimezone(SHANGHAI)
        subject = f"【舆情摘要】{local:%m月%d日 %H:%M} 一般舆情 {len(items)} 条"
        body = "\n\n".join(f"{i}. {row.subject}\n{messages.current(row.body, alert) if alert else row.body}"
                            for i, (row, alert) in enumerate(items, 1))
        rows = [row for row, _ in items]
        key = f"digest:{local:%Y%m%d%H%M}:{channel}"
        if not session.execute(select(Notification.id).where(Notification.key == key)).first():
            session.add(Notification(key=key, alert_id=None, channel=channel, level=1, subject=subject,
                                     body=body, status="pending", attempts=0, next_attempt_at=now,
                                     created_at=now, urgent=False))
        for row in rows:
            row.status = "merged"


def _moot(session: Session, row: Notification, now: datetime) -> bool:
    """Whether ``row`` is no longer worth sending: its deadline met, void or (an alert dismissed as
    a false alarm) released, or its own expiry passed."""
    if row.expires_at is not None and now >= row.expires_at:
        return True
    if row.deadline_id is None:
        return False
    deadline = session.get(Deadline, row.deadline_id)
    if deadline.status == "void" or deadline.done_at is not None:
        return True
    alert = session.get(Alert, deadline.alert_id)
    return alert.state == "dismissed"


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    withdrawn: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    channel: str
    message: Message


def _claim(store: Store, now: datetime, passed: set[int], console_url: str | None,
           report: DeliveryReport) -> _Claimed | None:
    """Claim the most urgent message due at ``now`` (skipping ``passed``), withdrawing moot ones on
    the way; None when nothing is left to send."""
    with store.session() as session:
        while True:
            query = (select(Notification).where(Notification.status == "pending",
                                                Notification.next_attempt_at <= now)
                     .order_by(Notification.urgent.desc(), Notification.level.desc(),
                               Notification.next_attempt_at, Notification.id).limit(1))
            if passed:
                query = query.where(Notification.id.not_in(passed))
            if store.dialect == "postgresql":
                # on SQLite the transaction itself is the lock (BEGIN IMMEDIATE: one writer at a time)
                query = query.with_for_update(skip_locked=True)
            row = session.execute(query).scalar_one_or_none()
            if row is None:
                return None
            passed.add(row.id)
            if _moot(session, row, now):
                row.status = "withdrawn"
                report.withdrawn += 1
                metrics.NOTIFICATIONS.labels(row.channel, "withdrawn").inc()
                continue
            row.next_attempt_at = now + LEASE
            alert = session.get(Alert, row.alert_id) if row.alert_id else None
            return _Claimed(row.id, row.key, row.channel, Message(
                subject=row.subject, body=messages.current(row.body, alert) if alert else row.body,
                level=row.level, alert_id=row.alert_id, url=alert_link(console_url, row.alert_id)))


def _send(channels: dict[str, Channel], claimed: _Claimed) -> tuple[str | None, bool]:
    """One attempt; returns (error or None, whether only a person can fix it)."""
    channel = channels.get(claimed.channel)
    if channel is None:
        return f"channel {claimed.channel!r} is not configured (notify.channels in alerting.yaml)", True
    try:
        channel.send(claimed.message)
    except DeliveryError as exc:
        return str(exc), not exc.retryable
    except Exception as exc:  # noqa: BLE001 - a channel's bug is this message's failure, not the ticker's end
        log.exception("notification_channel_error channel=%s key=%s", claimed.channel, claimed.key)
        return f"channel {claimed.channel!r} failed unexpectedly: {type(exc).__name__}: {exc}", False
    return None, False


def deliver_due(store: Store, settings: Notify, channels: dict[str, Channel], clock: Clock,
                console_url: str | None = None, limit: int = BATCH) -> DeliveryReport:
    """Send the messages due now, one at a time (see the module docstring); record each outcome.
    Each message is tried at most once per call; ``console_url`` gives each message its link."""
    report = DeliveryReport()
    with store.session() as session:
        _merge_digests(session, clock.now())
    passed: set[int] = set()
    for _ in range(limit):
        claimed = _claim(store, clock.now(), passed, console_url, report)
        if claimed is None:
            break
        error, needs_person = _send(channels, claimed)
        now = clock.now()
        with store.session() as session:
            row = session.get(Notification, claimed.id)
            if row.status == "sent":
                continue  # another ticker took it over after the lease ran out, and recorded it
            if row.status == "withdrawn" and error is not None:
                continue  # it became moot while we tried: nothing left to retry
            row.attempts += 1
            metrics.NOTIFICATIONS.labels(claimed.channel, "sent" if error is None else "failed").inc()
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                report.sent += 1
                continue
            if row.urgent:
                delay = settings.urgent_retry_interval
            elif needs_person:
                # a refusal that needs a person (wrong key, bad signature) is still retried, but at
                # the slowest pace: the message stays on the alert until someone fixes the channel
                delay = settings.max_retry_interval
            else:
                delay = min(FIRST_RETRY * 2 ** (row.attempts - 1), settings.max_retry_interval)
            row.next_attempt_at, row.last_error = now + delay, error
            report.failed += 1
            log.warning("notification_failed channel=%s key=%s attempt=%d error=%s",
                        claimed.channel, row.key, row.attempts, error)
    return report
