"""The relational schema of alerts, their articles, deadlines, tasks, notifications and the audit log.

Written for SQLAlchemy 2 so that one set of tables runs on SQLite (embedded default) and PostgreSQL
(deployments). The schema itself is created and changed only by the Alembic migrations in
``alerting/store/migrations`` (a test checks that they match these classes).

Times are stored in UTC: :class:`UtcDateTime` turns SQLite's naive values back into aware ones,
so the service compares instants the same way on both databases.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
    TypeDecorator, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base", "Alert", "AlertArticle", "Deadline", "Timer", "Task", "Report", "Notification",
    "AuditEntry", "AuditHead", "VolumeCount", "UtcDateTime", "User", "WebSession", "LoginFailure", "Dismissal", "DeadlineOwner",
    "BriefingReview", "VolumeMention", "VolumeSpike", "Petition", "Handling",
]


class UtcDateTime(TypeDecorator):
    """An aware datetime stored as UTC; naive values are refused (they are always a bug here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware time (Clock.now())")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Alert(Base):
    """One alert per story: the first article opens it, reposts and near duplicates update it."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: the story cluster id, or ``volume:<name>:<window>`` for a volume spike
    story_key: Mapped[str] = mapped_column(String(200), unique=True)
    trigger: Mapped[str] = mapped_column(String(16))  # content | volume
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    first_source: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    level: Mapped[int] = mapped_column(Integer)
    #: why the level is what it is: classifier, routing rule names, spread rules
    level_reasons: Mapped[list] = mapped_column(JSON, default=list)
    office: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default="new")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    overall: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the story's reach: each spread counter summed over its articles (alerting.routing.story_engagement)
    reach: Mapped[dict] = mapped_column(JSON, default=dict)
    #: 属地: local | unknown | region | elsewhere (alerting.locality), the most local of its articles
    locality: Mapped[str] = mapped_column(String(16), default="unknown")
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    sensitivity: Mapped[float] = mapped_column(Float, default=0.0)
    articles: Mapped[int] = mapped_column(Integer, default=0)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    matched_rules: Mapped[list] = mapped_column(JSON, default=list)
    explanation: Mapped[list] = mapped_column(JSON, default=list)
    #: offices the warning went to (they verify and may see the alert)
    warned_offices: Mapped[list] = mapped_column(JSON, default=list)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    acked_by: Mapped[str | None] = mapped_column(String(80))
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_alerts_state_level", "state", "level"), Index("ix_alerts_first_seen", "first_seen"))


class AlertArticle(Base):
    """An article of an alert's story; the pair is unique so a redelivered article changes nothing."""

    __tablename__ = "alert_articles"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    article_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(Integer)
    published: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: the spread counters its page showed when fetched (reposts, comments, likes, reads)
    spread: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_alert_articles_seen", "alert_id", "seen_at"),)


class Deadline(Base):
    """A time limit: an upward report (1 h, 2 h), a verification or a consultation task."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    kind: Mapped[str] = mapped_column(String(16))  # major | overall | task
    #: unique per alert: ``major``, ``overall`` or ``task:<id>``
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    office: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: open | met | missed (missed stays missed when the work is done late: accountability)
    status: Mapped[str] = mapped_column(String(8), default="open")
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the 责任人 who owns the duty now: named for a task, else who was on duty for ``office``
    #: (alerting.people); every change is a DeadlineOwner row (migration 0010)
    person: Mapped[str] = mapped_column(String(80), default="")
    #: the 组长 let an upward report go unmade (a closed alert needs its reports, or this), with why;
    #: the deadline stays missed (migration 0006)
    exempted_by: Mapped[str | None] = mapped_column(String(80))
    exempted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    exempt_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("alert_id", "key", name="uq_deadline"),
                      Index("ix_deadlines_open", "status", "due_at"))


class Timer(Base):
    """A reminder or an escalation due at ``fire_at``. ``fired_at`` is set in the same transaction
    that queues its messages, so after a restart a timer fires once: never lost, never twice."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    kind: Mapped[str] = mapped_column(String(24))  # remind:<minutes> | escalate
    fire_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("deadline_id", "kind", name="uq_timer"),
                      Index("ix_timers_due", "fired_at", "fire_at"))


class Task(Base):
    """Work given to an office: verification after a warning (核实) or a consultation task (会商)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    kind: Mapped[str] = mapped_column(String(16))  # verify | consult
    title: Mapped[str] = mapped_column(Text)
    office: Mapped[str] = mapped_column(String(40))
    person: Mapped[str] = mapped_column(String(80), default="")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    result: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Report(Base):
    """An upward report made (上报/知会): to whom, when, by whom; the 组长's reason when it skipped a
    level of the chain; and its receipt (回执): who confirmed it, how and when (migration 0011)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    recipient: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    received_by: Mapped[str | None] = mapped_column(String(80))
    #: 电话 | 传真 | 机要 | 邮件
    received_via: Mapped[str | None] = mapped_column(String(8))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    receipt_recorded_by: Mapped[str | None] = mapped_column(String(80))


class Notification(Base):
    """A message to one channel (the outbox). Kept until delivered; failures are retried (with
    backoff, or at a short fixed pace when ``urgent``) and shown on the alert; ``key`` is unique so
    the same message is never queued twice. A message about a running clock names its
    ``deadline_id``: it is withdrawn, never sent late, once that deadline is met or void, or (a
    reminder) once ``expires_at`` has passed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    alert_id: Mapped[str | None] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    #: pending (waiting, held by quiet hours, or retrying) | digest (held for the digest) | sent |
    #: merged (into a digest) | withdrawn (moot before it went out: its work done, void or too late)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: never held by quiet hours or the minimum interval; retried at ``notify.urgent_retry_interval``
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the clock this message is about (a reminder, a warning's verification, a task)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    #: moot from this moment on (a reminder: its deadline)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)


class AuditEntry(Base):
    """One action, chained to the one before: ``hash = sha256(prev_hash + canonical entry)``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    alert_id: Mapped[str | None] = mapped_column(String(16), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of the chain, one row, locked while appending so writers take turns."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class VolumeCount(Base):
    """Articles naming a watched place, unit or person, per hour: the volume trigger's baseline."""

    __tablename__ = "volume_counts"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# ---- the web console's accounts (migration 0002) ------------------------------------------------


class User(Base):
    """A console account: one person of one office, with a role that decides which pages they get.

    ``role`` is ``staff`` (an office's worker), ``leader`` (组长, the coordinating group), ``analyst``
    (search and trends), ``operator`` (crawl sources) or ``admin``. The password is kept only as
    an argon2 hash; ``disabled`` accounts cannot log in and their sessions end.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    office: Mapped[str] = mapped_column(String(40), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebSession(Base):
    """A logged-in browser or API client. Only the SHA-256 of the cookie's token is stored, so a
    copy of the database does not let anyone log in; ``csrf`` is the token forms must carry."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginFailure(Base):
    """A failed login, kept for the rate limit (name and address); old rows are pruned at login."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_login_failures_name_ip_at", "name", "ip", "at"),
                      Index("ix_login_failures_ip_at", "ip", "at"))


# ---- the coordinating group's review of briefings (migration 0003) -----------------------------------


class BriefingReview(Base):
    """The 组长's decision on a briefing (例会通报审批): ``approved``, or ``returned`` for rework
    with a note. One row per briefing name (the file stem), replaced when a new version is
    reviewed; every decision is also in the audit log. ``modified`` is the time of the newest
    file of the briefing when it was reviewed: a file written after it makes the review stale."""

    __tablename__ = "briefing_reviews"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(8))  # approved | returned
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    modified: Mapped[datetime] = mapped_column(UtcDateTime)


# ---- dismissals with a second person (migration 0006) ---------------------------------------------


class Dismissal(Base):
    """A request to dismiss an alert as a false alarm (排除误报) and what became of it.

    ``state``: ``proposed`` (a 较大 or 重大 item, waiting for the 组长; the alert and its clocks go
    on meanwhile), ``approved`` (the 组长 agreed: the alert was dismissed), ``returned`` (the 组长
    refused, with a ``note``), ``direct`` (a 一般 item, or the 组长's own decision: dismissed at
    once). Every row, whatever its state, is listed in the next briefing.
    """

    __tablename__ = "dismissals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    note: Mapped[str] = mapped_column(Text, default="")


# ---- the volume trigger over sliding windows (migration 0007) -----------------------------------


class VolumeMention(Base):
    """An article that names a watched place, unit or person, with its story and when it was seen:
    the volume trigger counts these over any window, whatever order they arrived in."""

    __tablename__ = "volume_mentions"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    article_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    story_key: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_volume_mentions_name_seen", "name", "seen_at"),)


class VolumeSpike(Base):
    """A watched name whose spike a volume alert holds, with the largest window seen: one alert
    may hold several names (a county's and a town's in the same articles)."""

    __tablename__ = "volume_spikes"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    #: the most articles naming it within one window, of how many stories, and its usual count then
    peak: Mapped[int] = mapped_column(Integer)
    stories: Mapped[int] = mapped_column(Integer)
    usual: Mapped[float] = mapped_column(Float)


# ---- who owned a deadline, and since when (migration 0010) -----------------------------------------


class DeadlineOwner(Base):
    """The office and person that owned a deadline from ``since`` on, and why it changed: set
    when the deadline opens (``opened``), and when it falls due under someone else than who had
    it (``due``: the duty roster moved on). A missed deadline is the last owner's before its due time."""

    __tablename__ = "deadline_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    office: Mapped[str] = mapped_column(String(40))
    person: Mapped[str] = mapped_column(String(80), default="")
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    why: Mapped[str] = mapped_column(String(16))


# ---- 信访室's petition items, linked to alerts (migration 0012) -------------------------------------


class Petition(Base):
    """A letter, visit, call or online report (来信/来访/来电/网上举报) that 信访室 recorded, linked
    to the alert it belongs to. ``named``: signed by the petitioner (实名); the name itself is not
    kept where other offices read."""

    __tablename__ = "petitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    summary: Mapped[str] = mapped_column(Text)
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    office: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


# ---- handling records (migration 0011) ------------------------------------------------------------


class Handling(Base):
    """One act of handling (舆情处置) on an alert: who, when, what.

    ``kind``: 回应, 澄清, 辟谣, 信息发布 (``text`` and the published ``link``), 线索移交 (``office``
    receives the clue; ``task_id`` is its task, which that office signs for), 协同 (``partner``, a
    unit of the directory)."""

    __tablename__ = "handlings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    office: Mapped[str] = mapped_column(String(40), default="")
    partner: Mapped[str] = mapped_column(String(30), default="")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    actor: Mapped[str] = mapped_column(String(80))
    actor_office: Mapped[str] = mapped_column(String(40), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)
