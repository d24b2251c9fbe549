"""The bus: topics that carry records from one stage to the next.

Two backends answer the same small protocol: :class:`~pipeline.bus.local.LocalBus`, an append-only
log in a SQLite file (the embedded default), and :class:`~pipeline.bus.kafka.KafkaBus`. Both give
at-least-once delivery: a consumer commits after it has handled what it polled, and whatever it
polled but did not commit is delivered again to the next member of its group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

#: Crawlers publish Article records here.
RAW = "articles.raw"
#: The classifier publishes ScoredArticle records here.
SCORED = "articles.scored"
#: Matches for the propaganda department's alert queue.
ALERTS = "alerts"
#: Records a stage could not process, with the reason and their origin.
DEADLETTER = "deadletter"

TOPICS = (RAW, SCORED, ALERTS, DEADLETTER)


@dataclass(frozen=True, slots=True)
class Message:
    """One record as read from a topic. ``topic`` is the logical name (without any prefix)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int

    @property
    def where(self) -> str:
        """``topic[partition]@offset``: how errors and dead letters name this message."""
        return f"{self.topic}[{self.partition}]@{self.offset}"


class Consumer(Protocol):
    """A member of a consumer group reading one or more topics.

    ``poll`` returns the next records (in order within a partition); ``commit`` records that
    everything returned by ``poll`` so far has been handled. Records polled but not committed
    before ``close`` (or a crash) are delivered again.
    """

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...

    def assigned(self) -> bool:
        """True once this member has partitions to read (a Kafka group may take a session
        timeout to hand over the partitions of a member that died)."""
        ...

    def lag(self) -> int | None:
        """Records published but not yet polled by this member, when known."""
        ...


class Bus(Protocol):
    """Publish records to topics and open consumers on them.

    ``publish`` may buffer; after ``flush`` returns, every record published before it is durable
    (acknowledged by all in-sync replicas on Kafka, committed to disk for the embedded log).
    Records with the same key keep their order. ``flush`` raises
    :class:`~pipeline.errors.BackendUnavailable` when records could not be written, at least
    when any of those the calling thread published could not: several steps' threads may share
    one bus (``yuqing run``), and each commits its offsets on its own flush.
    """

    def publish(self, topic: str, value: bytes, key: bytes | None = None) -> None: ...

    def flush(self, timeout_s: float = 30.0) -> None: ...

    def consumer(self, topics: str | Sequence[str], group: str) -> Consumer: ...

    def close(self) -> None: ...
