"""KafkaBus: the bus on Apache Kafka, through confluent-kafka (librdkafka, the C client).

Why a C client: the pure-Python kafka-python spent 0.057 ms of CPU producing and 0.038 ms
consuming and committing each 5 kB record; librdkafka spends 0.009 and 0.005 ms (issue 17,
docs/benchmarks.md, "Issue 17: the Kafka client in C"), which was most of the alert worker's CPU.

Producer: acks=all with idempotence and unbounded retries inside a delivery timeout of 60 s, so a
broker hiccup neither loses nor duplicates a record, and records with the same key (the canonical
URL hash) land in the same partition in order. The partitioner is murmur2, as kafka-python's and
the Java client's: a key stays in the partition it was in before the switch of clients. Batches
of up to 256 KiB per partition, lingering 5 ms: an article is 4-5 KB of JSON, and a 16 KiB batch
made every record cost the broker several times the CPU (docs/benchmarks.md, "Stream pipeline end
to end"). No compression: on loopback or a LAN the CPU it costs is worth more than the bytes it
saves. librdkafka reports each delivery through a callback run by whichever thread calls
``poll``/``flush``; every publishing thread keeps its own tally (:class:`Deliveries`), so a flush
judges only the records its own thread published: `yuqing run` shares one bus between its steps,
and a step must not commit a batch on another step's success. A record the client refuses
outright (over the 1 MB message limit) is a :class:`RecordError`, which the step dead-letters,
not a BackendUnavailable that would have it retried for ever.

Consumer: a member of a consumer group with automatic commits off; ``commit`` commits the offsets
of what ``poll`` returned, and is called by the stage after it has handled the batch
(at-least-once). An error the consumer reports instead of a record is never handed on as one: a
transient one (a broker away, a partition moving) is logged and skipped, a fatal one raises
:class:`BackendUnavailable`.

librdkafka connects lazily and never fails at construction, so creating a bus or a consumer asks
for the cluster's metadata with a timeout: no answer is :class:`BackendUnavailable`, as before.
Its own log lines (warnings and worse only) go to stderr in librdkafka's format, and the errors
it reports through ``error_cb`` to the ``pipeline.bus.kafka.librdkafka`` logger. Handing the log
lines to a Python logger as well (the client's ``logger`` setting) crashed the process with a
segmentation fault in the failover test, twice in two runs, a minute into the feed; without it
the same test passed twice (docs/benchmarks.md, "Issue 17: the Kafka client in C").

On a cluster the URL lists several brokers and says how many copies the topics keep
(``kafka://h1:9092,h2:9092,h3:9092?replication_factor=3&min_insync_replicas=2``,
:mod:`pipeline.urloptions`): with acks=all a record is acknowledged once that many replicas have
it, so losing one broker loses nothing and does not stop writes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Sequence
from urllib.parse import urlsplit

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewTopic, ResourceType)

from pipeline.bus import TOPICS, Message
from pipeline.errors import BackendUnavailable, ConfigError, RecordError
from pipeline.urloptions import kafka_options

__all__ = ["KafkaBus", "KafkaGroupConsumer", "Deliveries", "bootstrap_servers", "client_config",
           "admin_client"]

log = logging.getLogger(__name__)
#: The errors librdkafka reports through ``error_cb`` (connections lost, all brokers down).
client_log = logging.getLogger(f"{__name__}.librdkafka")

#: Producer batch per partition; see the module docstring for why it is not a small one.
_BATCH_BYTES = 256 * 1024

#: A fetch is answered once this much is there or the wait is over (librdkafka: 1 byte, 500 ms).
#: At 250 articles a second a worker that keeps up got a few records a poll, and paid a flush, a
#: commit and a bulk request for each handful.
_FETCH_MIN_BYTES = 128 * 1024
_FETCH_MAX_WAIT_MS = 100

#: How long construction and the admin requests wait for the cluster to answer.
_ANSWER_S = 15.0

#: librdkafka's syslog level for warnings: info and debug lines are not produced at all.
_SYSLOG_WARNING = 4

#: What librdkafka refuses about one record rather than about the cluster: the record is a bad
#: one (the step dead-letters its input), and the bus goes on with the next.
_RECORD_REFUSALS = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_MSG_SIZE,
                              KafkaError._INVALID_ARG})

_HINT = "is the broker running? (deploy/services/start kafka, or check bus.url / YUQING_BUS_URL)"


def bootstrap_servers(url: str) -> list[str]:
    """``kafka://h1:9092,h2:9092`` → ``["h1:9092", "h2:9092"]`` (port 9092 when none is given)."""
    netloc = urlsplit(url).netloc
    servers = [s if ":" in s else f"{s}:9092" for s in netloc.split(",") if s]
    if not servers:
        raise BackendUnavailable(f"bus url {url!r} names no broker; expected kafka://HOST:PORT")
    return servers


def _log_client_error(err: KafkaError) -> None:
    """librdkafka's error callback: errors of the client as a whole (all brokers down, a
    broker's connection lost). It retries by itself; the flush or poll that suffers says so."""
    if err.fatal():
        client_log.error("kafka_client_fatal: %s", err)
    else:
        client_log.warning("kafka_client_error: %s", err)


def client_config(url: str, client_id: str = "yuqing") -> dict:
    """The settings every client (producer, consumer, admin) of ``url`` shares: the brokers,
    librdkafka's own log lines at warning and worse (to stderr: see the module docstring for why
    not to a Python logger), its errors to :data:`client_log`."""
    return {
        "bootstrap.servers": ",".join(bootstrap_servers(url)),
        "client.id": client_id,
        "log_level": _SYSLOG_WARNING,
        # a broker closing an idle connection is routine, not a warning for an operator
        "log.connection.close": False,
        "error_cb": _log_client_error,
    }


def admin_client(url: str, client_id: str = "yuqing") -> AdminClient:
    """An admin client of the cluster at ``url`` that has answered a metadata request; raises
    :class:`BackendUnavailable` when no broker does within the timeout."""
    admin = AdminClient(client_config(url, client_id))
    _check_answers(admin, url)
    return admin


def _check_answers(client, url: str):
    """The cluster's metadata, asked of ``client``; BackendUnavailable when no broker answers."""
    try:
        return client.list_topics(timeout=_ANSWER_S)
    except KafkaException as exc:
        client.poll(0)  # the client's log lines say which broker failed how
        raise BackendUnavailable(f"Kafka at {url}: no answer within {_ANSWER_S:g} s "
                                 f"({_reason(exc)}); {_HINT}") from None


def _reason(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if isinstance(error, KafkaError) else str(exc)


def _code(exc: KafkaException) -> int | None:
    error = exc.args[0] if exc.args else None
    return error.code() if isinstance(error, KafkaError) else None


class Deliveries:
    """What the broker answered for the records one thread published since its last flush.

    ``record`` is the delivery callback: librdkafka runs it in whichever thread happens to call
    ``poll`` or ``flush``, hence the lock. ``sent`` is counted by the publishing thread alone.
    """

    __slots__ = ("_lock", "sent", "acknowledged", "failed")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.acknowledged = 0
        self.failed: list[KafkaError] = []

    def record(self, err: KafkaError | None, _message) -> None:
        with self._lock:
            if err is None:
                self.acknowledged += 1
            else:
                self.failed.append(err)

    def pending(self) -> int:
        with self._lock:
            return self.sent - self.acknowledged - len(self.failed)

    def outcome(self) -> tuple[list[KafkaError], int]:
        """(the errors, how many are still unanswered), read at one moment."""
        with self._lock:
            return list(self.failed), self.sent - self.acknowledged - len(self.failed)


class KafkaBus:
    """The :class:`~pipeline.bus.Bus` on Kafka: ``KafkaBus("kafka://127.0.0.1:9092")``.

    Creating one checks that the broker answers and creates yuqing's topics (with ``partitions``
    partitions) if they do not exist; raises :class:`BackendUnavailable` otherwise, so a
    deployment never runs without its bus.
    """

    def __init__(
        self,
        url: str,
        partitions: int = 3,
        topic_prefix: str = "",
        client_id: str = "yuqing",
        replication_factor: int | None = None,
        retention_ms: int | None = None,
    ):
        self.url = url
        self.servers = bootstrap_servers(url)
        try:
            options = kafka_options(url)
        except ValueError as exc:
            raise ConfigError(f"bus.url: {exc}") from None
        # The topics yuqing creates: replication from the URL unless the caller says otherwise.
        replication_factor = replication_factor or options.replication_factor
        self.min_insync_replicas = options.min_insync_replicas
        self.prefix = topic_prefix
        self.client_id = client_id
        self._sent = threading.local()
        self.retention_ms = retention_ms
        self.ensure_topics(TOPICS, partitions, replication_factor)
        self._producer = Producer({
            **client_config(url, client_id),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.size": _BATCH_BYTES,
            "compression.type": "none",
            "delivery.timeout.ms": 60_000,
            "partitioner": "murmur2_random",
        })

    def ensure_topics(self, topics: Sequence[str], partitions: int, replication_factor: int = 1):
        """Create the topics that do not exist yet; existing ones keep their partitions. With a
        ``retention_ms``, every topic (new or not) is set to it: the settings say how long the
        bus keeps records (``bus.retention_days``), not whatever the broker's default is."""
        admin = AdminClient(client_config(self.url, self.client_id))
        try:
            self._ensure_topics(admin, topics, partitions, replication_factor)
        finally:
            admin.poll(0)  # hands its queued log lines and errors to the logger

    def _ensure_topics(self, admin: AdminClient, topics: Sequence[str], partitions: int,
                       replication_factor: int) -> None:
        existing = set(_check_answers(admin, self.url).topics)
        missing = [self.prefix + t for t in topics if self.prefix + t not in existing]
        if missing:
            asked = admin.create_topics(
                [NewTopic(t, num_partitions=partitions, replication_factor=replication_factor,
                          config=self._configs()) for t in missing],
                operation_timeout=_ANSWER_S, request_timeout=_ANSWER_S)
            for name, answer in asked.items():
                try:
                    answer.result()
                except KafkaException as exc:
                    if _code(exc) != KafkaError.TOPIC_ALREADY_EXISTS:  # another worker was first
                        raise BackendUnavailable(f"Kafka at {self.url}: cannot create topic {name}: "
                                                 f"{_reason(exc)}; {_HINT}") from None
            log.info("created topics %s with %d partitions", missing, partitions)
        if self.retention_ms is not None:
            self._set_retention(admin, [self.prefix + t for t in topics])

    def _set_retention(self, admin: AdminClient, names: list[str]) -> None:
        """retention.ms on the topics; a broker that refuses (no AlterConfigs right) keeps its
        own retention, which is a warning, not a reason to stop the stream."""
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                   for k, v in self._configs().items()]
        refused: dict[str, object] = {}
        try:
            asked = admin.incremental_alter_configs(
                [ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
                 for name in names], request_timeout=_ANSWER_S)
        except (KafkaException, ValueError) as exc:
            refused[", ".join(names)] = exc
            asked = {}
        for resource, answer in asked.items():
            try:
                answer.result()
            except KafkaException as exc:
                refused[resource.name] = _reason(exc)
        for name, why in refused.items():
            log.warning("bus_retention_not_set: Kafka at %s: retention.ms %s on %s refused (%s); "
                        "the topic keeps the broker's retention: grant AlterConfigs on the "
                        "topics or set it with kafka-configs.sh", self.url, self.retention_ms, name,
                        why)

    def _configs(self) -> dict[str, str]:
        configs = {"min.insync.replicas": str(self.min_insync_replicas)}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs

    def topic_retention_ms(self, topic: str) -> int | None:
        """The topic's retention.ms as the broker reports it (tests, ``yuqing storage``)."""
        admin = AdminClient(client_config(self.url, self.client_id))
        resource = ConfigResource(ResourceType.TOPIC, self.prefix + topic)
        try:
            (answer,) = admin.describe_configs([resource], request_timeout=_ANSWER_S).values()
            entry = answer.result().get("retention.ms")
        except KafkaException as exc:
            raise BackendUnavailable(f"Kafka at {self.url}: cannot read the configuration of "
                                     f"{resource.name}: {_reason(exc)}; {_HINT}") from None
        finally:
            admin.poll(0)
        return int(entry.value) if entry is not None and entry.value is not None else None

    def publish(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        deliveries = self._deliveries()
        while True:
            try:
                self._producer.produce(self.prefix + topic, value=value, key=key,
                                       on_delivery=deliveries.record)
                break
            except BufferError:
                # librdkafka's queue is full (100,000 records): let deliveries drain it
                self._producer.poll(0.1)
            except KafkaException as exc:
                if _code(exc) in _RECORD_REFUSALS:
                    raise RecordError(f"{topic} (publish, {len(value)} bytes)",
                                      f"refused by the Kafka client: {_reason(exc)}") from None
                raise BackendUnavailable(f"Kafka at {self.url}: cannot publish to "
                                         f"{self.prefix + topic}: {_reason(exc)}; {_HINT}") from None
        deliveries.sent += 1
        # serves the delivery callbacks that are due, so they do not wait for the next flush
        self._producer.poll(0)

    def _deliveries(self) -> Deliveries:
        if not hasattr(self._sent, "deliveries"):
            self._sent.deliveries = Deliveries()
        return self._sent.deliveries

    def flush(self, timeout_s: float = 30.0) -> None:
        deliveries, self._sent.deliveries = self._deliveries(), Deliveries()
        deadline = time.monotonic() + timeout_s
        # librdkafka's flush waits for every thread's records; in short slices, this thread
        # stops waiting as soon as its own are answered.
        while deliveries.pending() and (left := deadline - time.monotonic()) > 0:
            self._producer.flush(min(left, 0.1))
        failed, pending = deliveries.outcome()
        if failed or pending:
            first = failed[0].str() if failed else f"timed out after {timeout_s:g} s"
            raise BackendUnavailable(
                f"Kafka at {self.url}: {len(failed) + pending} of {deliveries.sent} records not "
                f"acknowledged ({first}); {_HINT}"
            )

    def consumer(self, topics: str | Sequence[str], group: str) -> "KafkaGroupConsumer":
        names = [topics] if isinstance(topics, str) else list(topics)
        return KafkaGroupConsumer(self, names, group)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.flush(5.0)  # other threads' leftovers, if any: not judged here


class KafkaGroupConsumer:
    """A consumer-group member on Kafka; see :class:`pipeline.bus.Consumer` for the contract.

    Raises :class:`BackendUnavailable` at construction when no broker answers, and from ``poll``
    when the client hit a fatal error.
    """

    def __init__(self, bus: KafkaBus, topics: list[str], group: str):
        self.bus = bus
        self._strip = len(bus.prefix)
        self._consumer = Consumer({
            **client_config(bus.url, bus.client_id),
            "group.id": bus.prefix + group,
            # commit() commits the offsets librdkafka stored as poll() handed records over
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # A member that stops heart-beating hands its partitions over within this time.
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 1_000,
            "fetch.min.bytes": _FETCH_MIN_BYTES,
            "fetch.wait.max.ms": _FETCH_MAX_WAIT_MS,
        })
        try:
            _check_answers(self._consumer, bus.url)
        except BackendUnavailable:
            self._consumer.close()
            raise
        # Where this member starts in partitions it has not read from yet (for lag); the
        # group may have moved them on while they were another member's, so forgotten on
        # every rebalance.
        self._starts: dict[tuple[str, int], int] = {}
        self._consumer.subscribe([bus.prefix + t for t in topics],
                                 on_assign=self._forget_starts, on_revoke=self._forget_starts)

    def _forget_starts(self, _consumer, _partitions) -> None:
        self._starts.clear()

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while True:
            # consume() would wait for a full batch until the timeout: wait for one record,
            # then take whatever else has already arrived.
            first = self._consumer.poll(max(0.0, deadline - time.monotonic()))
            raw = [first] if first is not None else []
            if first is not None and max_records > 1:
                raw += self._consumer.consume(max_records - 1, 0)
            out = [self._message(m) for m in raw if not self._is_error(m)]
            # nothing may come while the group is (re)balancing or only errors came
            if out or time.monotonic() >= deadline:
                return out

    def _message(self, m) -> Message:
        return Message(m.topic()[self._strip:], m.partition(), m.offset(), m.key(), m.value(),
                       m.timestamp()[1])

    def _is_error(self, m) -> bool:
        err = m.error()
        if err is None:
            return False
        if err.fatal():
            raise BackendUnavailable(f"Kafka at {self.bus.url}: the consumer of {m.topic()} "
                                     f"failed: {err.str()}; restart the worker") from None
        log.warning("bus_consumer_error: Kafka at %s: %s [%s]: %s; skipped, the client retries",
                    self.bus.url, m.topic(), m.partition(), err.str())
        return True

    def commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if _code(exc) == KafkaError._NO_OFFSET:
                return  # nothing polled since the last commit
            raise BackendUnavailable(f"Kafka at {self.bus.url}: commit failed: {_reason(exc)}; "
                                     f"the records are delivered again") from None

    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    def lag(self) -> int | None:
        total = 0
        for tp in self._consumer.position(self._consumer.assignment()):
            low, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if high < 0:  # not known until a fetch for that partition returned
                return None
            position = tp.offset if tp.offset >= 0 else self._start(tp, low)
            if position is None:
                return None
            total += max(0, high - position)
        return total

    def _start(self, tp: TopicPartition, low: int) -> int | None:
        """The offset reading begins at in a partition nothing was polled from since it was
        assigned: the group's committed offset, or the log's start (auto.offset.reset)."""
        where = (tp.topic, tp.partition)
        if where not in self._starts:
            try:
                (committed,) = self._consumer.committed([TopicPartition(*where)], timeout=_ANSWER_S)
            except KafkaException:
                return None  # the coordinator is moving: no figure this time
            self._starts[where] = committed.offset if committed.offset >= 0 else low
        return self._starts[where]

    def close(self) -> None:
        self._consumer.close()
