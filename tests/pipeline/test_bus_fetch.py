"""How much a Kafka consumer's fetch waits for (``fetch_min_bytes``, ``fetch_max_wait_ms`` in the
bus URL): the options reach the consumer, and a quiet topic still delivers within the wait."""

from __future__ import annotations

import pytest

from pipeline.bus import RAW
from pipeline.testing import KAFKA_URL, drain, drop_test_topics, require_service, unique

pytestmark = pytest.mark.kafka


@pytest.fixture
def kafka_bus():
    """Opens a bus on the test broker with the given URL query; its topics go afterwards."""
    from pipeline.bus.kafka import KafkaBus

    require_service("Kafka", KAFKA_URL)
    prefix = unique("test.") + "."
    yield lambda query: KafkaBus(f"{KAFKA_URL}?{query}" if query else KAFKA_URL, partitions=1,
                                 topic_prefix=prefix)
    drop_test_topics(KAFKA_URL, prefix)


def test_the_urls_fetch_sizes_reach_the_consumer(kafka_bus):
    bus = kafka_bus("fetch_min_bytes=1048576&fetch_max_wait_ms=300")
    consumer = bus.consumer(RAW, "fetch-sizes")
    assert consumer._consumer.config["fetch_min_bytes"] == 1048576
    assert consumer._consumer.config["fetch_max_wait_ms"] == 300
    consumer.close()
    bus.close()


def test_without_options_a_fetch_waits_for_128_kib_or_100_ms(kafka_bus):
    bus = kafka_bus("")
    consumer = bus.consumer(RAW, "fetch-defaults")
    assert consumer._consumer.config["fetch_min_bytes"] == 128 * 1024
    assert consumer._consumer.config["fetch_max_wait_ms"] == 100
    consumer.close()
    bus.close()


def test_a_few_records_arrive_although_they_are_far_below_the_minimum(kafka_bus):
    bus = kafka_bus("fetch_min_bytes=4194304&fetch_max_wait_ms=200")
    for n in range(3):
        bus.publish(RAW, f"record {n}".encode(), key=b"k")
    bus.flush()
    consumer = bus.consumer(RAW, "quiet-topic")
    assert [m.value for m in drain(consumer, 3)] == [b"record 0", b"record 1", b"record 2"]
    consumer.close()
    bus.close()
