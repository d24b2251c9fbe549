"""KafkaBus: the bus on Apache Kafka, through kafka-python.

Producer: acks=all with idempotence and unbounded retries inside a delivery timeout, so a broker
hiccup neither loses nor duplicates a record, and records with the same key (the canonical URL
hash) land in the same partition in order. Batches of up to 256 KiB per partition: an article is
4-5 KB of JSON, and kafka-python's default 16 KiB batch holds three of them, which made every
record cost the client 0.22 ms and the broker 0.36 ms of CPU; at 256 KiB it is 0.06 and 0.04 ms
(docs/benchmarks.md, "Stream pipeline end to end"). No compression: on loopback or a LAN the CPU
it costs is worth more than the bytes it saves. Consumer: a member of a consumer group with automatic
commits off; ``commit`` is called by the stage after it has handled the batch (at-least-once).

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

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.bus import TOPICS, Message
from pipeline.errors import BackendUnavailable, ConfigError
from pipeline.urloptions import kafka_options

log = logging.getLogger(__name__)

#: Producer batch per partition; see the module docstring for why it is not the default 16 KiB.
_BATCH_BYTES = 256 * 1024

_HINT = "is the broker running? (deploy/services/start kafka, or check bus.url / YUQING_BUS_URL)"


def bootstrap_servers(url: str) -> list[str]:
    """``kafka://h1:9092,h2:9092`` → ``["h1:9092", "h2:9092"]`` (port 9092 when none is given)."""
    netloc = urlsplit(url).netloc
    servers = [s if ":" in s else f"{s}:9092" for s in netloc.split(",") if s]
    if not servers:
        raise BackendUnavailable(f"bus url {url!r} names no broker; expected kafka://HOST:PORT")
    return servers


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
        # A fetch is answered once this much is there or the wait is over (kafka-python's own
        # defaults are 1 byte and 500 ms: a fetch for every few records, docs/benchmarks.md).
        self.fetch_min_bytes = options.fetch_min_bytes
        self.fetch_max_wait_ms = options.fetch_max_wait_ms
        self.prefix = topic_prefix
        self.client_id = client_id
        # Each thread checks the records it published itself: `yuqing run` shares one bus
        # between its steps, and a step must not commit a batch on another step's success.
        self._sent = threading.local()
        self.retention_ms = retention_ms
        self.ensure_topics(TOPICS, partitions, replication_factor)
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=self.servers,
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                batch_size=_BATCH_BYTES,
                compression_type=None,
                delivery_timeout_ms=60_000,
            )
        except KafkaError as exc:
            raise BackendUnavailable(f"Kafka at {url}: {exc}; {_HINT}") from None

    def ensure_topics(self, topics: Sequence[str], partitions: int, replication_factor: int = 1):
        """Create the topics that do not exist yet; existing ones keep their partitions. With a
        ``retention_ms``, every topic (new or not) is set to it: the settings say how long the
        bus keeps records (``bus.retention_days``), not whatever the broker's default is."""
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.servers, client_id=self.client_id, request_timeout_ms=15_000
            )
        except KafkaError as exc:
            raise BackendUnavailable(f"Kafka at {self.url}: {exc}; {_HINT}") from None
        try:
            existing = set(admin.list_topics())
            missing = [self.prefix + t for t in topics if self.prefix + t not in existing]
            if missing:
                try:
                    admin.create_topics(
                        [NewTopic(t, partitions, replication_factor, topic_configs=self._configs())
                         for t in missing],
                        timeout_ms=15_000,
                    )
                except TopicAlreadyExistsError:
                    pass  # another worker created it between list and create
                log.info("created topics %s with %d partitions", missing, partitions)
            if self.retention_ms is not None:
                self._set_retention(admin, [self.prefix + t for t in topics])
        except KafkaError as exc:
            raise BackendUnavailable(f"Kafka at {self.url}: cannot create topics: {exc}") from None
        finally:
            admin.close()

    def _set_retention(self, admin: KafkaAdminClient, names: list[str]) -> None:
        """retention.ms on the topics; a broker that refuses (no AlterConfigs right) keeps its
        own retention, which is a warning, not a reason to stop the stream."""
        try:
            answer = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name,
                                                         configs=self._configs()) for name in names])
            refused = {n: r for n, r in answer.get("topic", {}).items() if str(r) != "OK"}
        except (KafkaError, ValueError) as exc:
            refused = {", ".join(names): exc}
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
        admin = KafkaAdminClient(bootstrap_servers=self.servers, client_id=self.client_id,
                                 request_timeout_ms=15_000)
        try:
            found = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, self.prefix + topic, ["retention.ms"])],
                config_filter="all")
        finally:
            admin.close()
        return _retention_of(found)

    def publish(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self._futures().append(self._producer.send(self.prefix + topic, value=value, key=key))

    def _futures(self) -> list:
        if not hasattr(self._sent, "futures"):
            self._sent.futures = []
        return self._sent.futures

    def flush(self, timeout_s: float = 30.0) -> None:
        futures, self._sent.futures = self._futures(), []
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise BackendUnavailable(f"Kafka at {self.url}: flush failed: {exc}; {_HINT}") from None
        failed = [f.exception for f in futures if f.failed()]
        pending = sum(1 for f in futures if not f.is_done)
        if failed or pending:
            first = failed[0] if failed else "timed out"
            raise BackendUnavailable(
                f"Kafka at {self.url}: {len(failed) + pending} of {len(futures)} records not "
                f"acknowledged ({first}); {_HINT}"
            )

    def consumer(self, topics: str | Sequence[str], group: str) -> "KafkaGroupConsumer":
        names = [topics] if isinstance(topics, str) else list(topics)
        return KafkaGroupConsumer(self, names, group)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.close()


class KafkaGroupConsumer:
    """A consumer-group member on Kafka; see :class:`pipeline.bus.Consumer` for the contract."""

    def __init__(self, bus: KafkaBus, topics: list[str], group: str):
        self.bus = bus
        self._strip = len(bus.prefix)
        try:
            self._consumer = KafkaConsumer(
                *[bus.prefix + t for t in topics],
                bootstrap_servers=bus.servers,
                client_id=bus.client_id,
                group_id=bus.prefix + group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # A member that stops heart-beating hands its partitions over within this time.
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
                fetch_min_bytes=bus.fetch_min_bytes,
                fetch_max_wait_ms=bus.fetch_max_wait_ms,
            )
        except KafkaError as exc:
            raise BackendUnavailable(f"Kafka at {bus.url}: {exc}; {_HINT}") from None

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            batches = self._consumer.poll(timeout_ms=remaining_ms, max_records=max_records)
            out = [
                Message(r.topic[self._strip:], r.partition, r.offset, r.key, r.value, r.timestamp)
                for records in batches.values()
                for r in records
            ]
            # poll() may return early with nothing while the group is (re)balancing.
            if out or time.monotonic() >= deadline:
                return out

    def commit(self) -> None:
        self._consumer.commit()

    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    def lag(self) -> int | None:
        total = 0
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:  # not known until a fetch for that partition returned
                return None
            total += max(0, high - self._consumer.position(tp))
        return total

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def _retention_of(described: dict) -> int | None:
    """retention.ms out of describe_configs' answer for one topic."""
    for topic in described.get("topic", {}).values():
        value = topic.get("retention.ms", {}).get("value")
        return int(value) if value is not None else None
    return None
