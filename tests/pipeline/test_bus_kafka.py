"""What the Kafka bus promises beyond the contract suite (issue 17, the bus on librdkafka): a flush
judges the calling thread's records only, errors the consumer reports are never records, and a
broker that does not answer is a BackendUnavailable at start, and what librdkafka reports as an
error reaches the log."""

from __future__ import annotations

import logging
import threading

import pytest
from confluent_kafka.admin import NewTopic

from pipeline.bus import RAW
from pipeline.bus.kafka import KafkaBus, admin_client
from pipeline.errors import BackendUnavailable, RecordError
from pipeline.testing import KAFKA_URL, drain, drop_test_topics, free_port, require_service, unique

pytestmark = pytest.mark.kafka


@pytest.fixture
def prefix():
    require_service("Kafka", KAFKA_URL)
    name = unique("test.") + "."
    yield name
    drop_test_topics(KAFKA_URL, name)


def small_topic(name: str) -> None:
    """A topic whose broker refuses records over 2 kB: a delivery that fails after publish."""
    admin = admin_client(KAFKA_URL, client_id="yuqing-tests")
    (made,) = admin.create_topics([NewTopic(name, 1, 1, config={"max.message.bytes": "2048"})]).values()
    made.result()


def test_a_flush_fails_for_the_thread_whose_records_were_refused_and_only_for_it(prefix):
    small_topic(prefix + "small")
    bus = KafkaBus(KAFKA_URL, partitions=3, topic_prefix=prefix)
    outcome: dict[str, object] = {}
    refused_published = threading.Event()
    others_flushed = threading.Event()

    def refused_step():
        bus.publish("small", b"x" * 10_000, key=b"big")
        refused_published.set()
        # the other thread's flush may well run this thread's delivery callback
        others_flushed.wait(30)
        try:
            bus.flush()
            outcome["refused"] = "flushed"
        except BackendUnavailable as exc:
            outcome["refused"] = str(exc)

    def good_step():
        refused_published.wait(30)
        for i in range(20):
            bus.publish(RAW, f"r{i}".encode(), key=f"k{i}".encode())
        try:
            bus.flush()
            outcome["good"] = "flushed"
        except BackendUnavailable as exc:
            outcome["good"] = str(exc)
        others_flushed.set()

    threads = [threading.Thread(target=refused_step), threading.Thread(target=good_step)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert outcome["good"] == "flushed"
    assert "1 of 1 records not acknowledged" in str(outcome["refused"])
    assert "too large" in str(outcome["refused"]).lower()
    bus.flush()  # the failure was reported once; the thread's next flush starts afresh
    reader = bus.consumer(RAW, "check")
    assert sorted(m.value for m in drain(reader, 20)) == sorted(f"r{i}".encode() for i in range(20))
    reader.close()
    bus.close()


def test_a_record_the_client_refuses_is_a_record_error_and_the_bus_goes_on(prefix):
    # a record error is dead-lettered by the step; BackendUnavailable would retry it for ever
    bus = KafkaBus(KAFKA_URL, partitions=3, topic_prefix=prefix)
    with pytest.raises(RecordError) as caught:
        bus.publish(RAW, b"x" * 2_000_000, key=b"huge")
    assert RAW in str(caught.value) and "too large" in str(caught.value).lower()
    bus.publish(RAW, b"fits", key=b"small")
    bus.flush()
    reader = bus.consumer(RAW, "check")
    assert [m.value for m in drain(reader, 1)] == [b"fits"]
    reader.close()
    bus.close()


def test_errors_the_consumer_reports_are_logged_and_never_handed_on_as_records(prefix, caplog):
    bus = KafkaBus(KAFKA_URL, partitions=3, topic_prefix=prefix)
    for i in range(3):
        bus.publish(RAW, f"r{i}".encode(), key=f"k{i}".encode())
    bus.flush()
    # a subscribed topic that does not exist: librdkafka reports it through poll()
    consumer = bus.consumer([RAW, "no-such-topic"], "mixed")
    with caplog.at_level(logging.WARNING, logger="pipeline.bus.kafka"):
        got = drain(consumer, 3) + consumer.poll(timeout_s=2.0)
    assert [m.topic for m in got] == [RAW] * 3
    assert all(isinstance(m.value, bytes) and m.offset >= 0 for m in got)
    reported = [r.getMessage() for r in caplog.records if r.name == "pipeline.bus.kafka"]
    assert any("bus_consumer_error" in r and "no-such-topic" in r for r in reported), reported
    consumer.close()
    bus.close()


def test_a_broker_that_does_not_answer_stops_the_start_and_its_errors_reach_the_log(caplog):
    url = f"kafka://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="pipeline.bus.kafka.librdkafka"):
        with pytest.raises(BackendUnavailable) as caught:
            KafkaBus(url)
    assert url in str(caught.value) and "deploy/services/start kafka" in str(caught.value)
    assert [r for r in caplog.records if r.name == "pipeline.bus.kafka.librdkafka"]
