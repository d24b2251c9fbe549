"""What every notification channel shares: the message, the protocol and the one error.

A :class:`Notification` (通知) is what the alerting workflow wants a person to read; a
:class:`Channel` delivers it once, synchronously, or raises :class:`DeliveryError`. Retrying,
persisting and pacing are the caller's business (the outbox), never a channel's: a channel makes
exactly one attempt per ``send`` and says whether another attempt could succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from pipeline.errors import YuqingError

__all__ = ["Channel", "DeliveryError", "Notification", "LEVEL_NAMES", "DELIVERY_CODES"]

#: The classifier's levels as the offices name them (pipeline.records.ScoredArticle.level).
LEVEL_NAMES = {0: "无需处置", 1: "一般", 2: "较大", 3: "重大"}

#: Fixed words for :attr:`DeliveryError.code`, safe as a metric label.
DELIVERY_CODES = frozenset({
    "unreachable",   # no connection: refused, DNS, network down
    "timeout",       # connected (or tried) but no answer in time; the outcome is unknown
    "http_status",   # the server answered with a non-2xx status
    "rejected",      # the vendor or mail server said no (errcode != 0, SMTP 4xx/5xx)
    "auth",          # credentials refused (SMTP login)
    "tls",           # the TLS handshake or certificate check failed
    "bad_response",  # the answer could not be read as the vendor documents it
    "partial",       # some e-mail recipients were refused; the others got the message
})


@dataclass(frozen=True)
class Notification:
    """One message for people: a one-line ``subject`` and a plain-text Chinese ``body``.

    ``level`` is the alert level 0..3 (:data:`LEVEL_NAMES`); ``alert_id`` and ``url`` (the alert's
    page in the workbench) are shown when given. Whitespace in ``subject`` (line breaks included,
    which would otherwise break an e-mail header) is collapsed to single spaces. Raises
    ``ValueError`` for an empty subject or a level outside 0..3.
    """

    subject: str
    body: str
    level: int
    alert_id: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        subject = " ".join(self.subject.split())
        if not subject:
            raise ValueError("a notification needs a subject")
        if self.level not in LEVEL_NAMES:
            raise ValueError(f"level must be 0..3, got {self.level!r}")
        object.__setattr__(self, "subject", subject)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    def details(self) -> list[tuple[str, str]]:
        """(label, value) lines every channel appends after the body, in this order."""
        lines = [("预警级别", self.level_name)]
        if self.alert_id:
            lines.append(("预警编号", self.alert_id))
        if self.url:
            lines.append(("详情链接", self.url))
        return lines

    def plain_text(self) -> str:
        """Body plus the detail lines, for channels that show plain text."""
        tail = "\n".join(f"{label}：{value}" for label, value in self.details())
        return f"{self.body.rstrip()}\n\n{tail}" if self.body.strip() else tail


@runtime_checkable
class Channel(Protocol):
    """A configured destination (one mailbox list, one chat group's robot, one webhook).

    ``name`` is unique among the configured channels and keys logs, metrics and outbox rows.
    ``send`` makes one delivery attempt, bounded by the channel's timeout, and returns only when
    the destination accepted the message; otherwise it raises :class:`DeliveryError`. It is safe
    to call from several threads.
    """

    name: str

    def send(self, message: Notification) -> None: ...


class DeliveryError(YuqingError):
    """A channel could not deliver a notification.

    ``channel`` is the channel's name; ``reason`` says what happened and what to check, naming the
    server but never a token or password; ``retryable`` is True when the same message may get
    through later unchanged (network trouble, timeouts, 5xx, rate limits, busy vendors) and False
    when a person must act first (wrong key or password, signature refused, bad address).
    ``code`` is one word of :data:`DELIVERY_CODES` for metrics.

    A timeout is retryable although the destination may have received the message: receivers see
    ``alert_id`` and can drop a repeat.
    """

    def __init__(self, channel: str, reason: str, retryable: bool, *, code: str = "rejected"):
        if code not in DELIVERY_CODES:
            raise ValueError(f"unknown delivery code {code!r}")
        self.channel = channel
        self.reason = reason
        self.retryable = retryable
        self.code = code
        kind = "will retry" if retryable else "not retried"
        super().__init__(f"channel {channel!r}: {reason} ({kind})")

    def __reduce__(self):
        # exceptions pickle their args only; the outbox may hand errors between processes
        return (_rebuild, (self.channel, self.reason, self.retryable, self.code))


def _rebuild(channel: str, reason: str, retryable: bool, code: str) -> DeliveryError:
    return DeliveryError(channel, reason, retryable, code=code)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: names the server in messages without its path or query,
    which for chat robots carry the access token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def fit_bytes(text: str, limit: int, marker: str = "…（内容过长，已截断）") -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary, ending in
    ``marker`` when cut: the robots reject (not truncate) a message over their size limit."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    return data[:max(room, 0)].decode("utf-8", errors="ignore") + marker
