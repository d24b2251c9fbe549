"""The bus contract, run against every backend (the embedded log and the real Kafka broker)."""

from __future__ import annotations

import pytest

from pipeline.bus import DEADLETTER, RAW, SCORED
from pipeline.errors import RecordError
from pipeline.records import Article, decode, encode
from pipeline.testing import drain, settle


def test_published_records_arrive_with_key_and_value(bus_factory):
    bus = bus_factory()
    bus.publish(RAW, "会昌县纪委监委".encode(), key=b"k1")
    bus.flush()
    consumer = bus.consumer(RAW, "readers")
    [message] = drain(consumer, 1)
    assert message.topic == RAW
    assert message.key == b"k1"
    assert message.value.decode() == "会昌县纪委监委"
    assert message.where == f"{RAW}[{message.partition}]@{message.offset}"
    consumer.close()


def test_records_with_one_key_keep_their_order(bus_factory):
    bus = bus_factory()
    keys = [b"story-a", b"story-b", b"story-c", b"story-d"]
    for i in range(60):
        key = keys[i % len(keys)]
        bus.publish(RAW, f"{key.decode()}:{i}".encode(), key=key)
    bus.flush()
    consumer = bus.consumer(RAW, "order")
    got = drain(consumer, 60)
    assert len(got) == 60
    by_key: dict[bytes, list[int]] = {}
    partitions: dict[bytes, set[int]] = {}
    for m in got:
        by_key.setdefault(m.key, []).append(int(m.value.decode().split(":")[1]))
        partitions.setdefault(m.key, set()).add(m.partition)
    for key, seq in by_key.items():
        assert seq == sorted(seq), f"{key} arrived out of order: {seq}"
        assert len(partitions[key]) == 1, f"{key} was spread over partitions {partitions[key]}"
    consumer.close()


def test_committed_offsets_survive_a_restart(bus_factory):
    bus = bus_factory()
    for i in range(10):
        bus.publish(RAW, f"first-{i}".encode(), key=f"k{i}".encode())
    bus.flush()
    first = bus.consumer(RAW, "restartable")
    assert len(drain(first, 10)) == 10
    first.commit()
    first.close()

    restarted = bus_factory()  # a new process: new client, same log
    for i in range(5):
        restarted.publish(RAW, f"second-{i}".encode(), key=f"k{i}".encode())
    restarted.flush()
    again = restarted.consumer(RAW, "restartable")
    got = drain(again, 5) + settle(again)
    assert sorted(m.value.decode() for m in got) == [f"second-{i}" for i in range(5)]
    again.close()


def test_records_polled_but_not_committed_are_delivered_again(bus_factory):
    bus = bus_factory()
    for i in range(8):
        bus.publish(RAW, f"r{i}".encode(), key=f"k{i}".encode())
    bus.flush()
    crashed = bus.consumer(RAW, "crashy")
    assert len(drain(crashed, 8)) == 8
    crashed.close()  # the worker dies after handling, before commit

    replacement = bus_factory().consumer(RAW, "crashy")
    redelivered = drain(replacement, 8)
    assert sorted(m.value.decode() for m in redelivered) == [f"r{i}" for i in range(8)]
    replacement.commit()
    replacement.close()

    after_commit = bus_factory().consumer(RAW, "crashy")
    assert settle(after_commit) == []
    after_commit.close()


def test_each_group_reads_every_record(bus_factory):
    bus = bus_factory()
    for i in range(5):
        bus.publish(SCORED, f"s{i}".encode(), key=b"same")
    bus.flush()
    indexer = bus.consumer(SCORED, "index")
    alerter = bus.consumer(SCORED, "alert")
    assert [m.value for m in drain(indexer, 5)] == [f"s{i}".encode() for i in range(5)]
    assert [m.value for m in drain(alerter, 5)] == [f"s{i}".encode() for i in range(5)]
    indexer.close()
    alerter.close()


def test_topics_are_separate(bus_factory):
    bus = bus_factory()
    bus.publish(RAW, b"raw", key=b"k")
    bus.publish(DEADLETTER, b"dead", key=b"k")
    bus.flush()
    consumer = bus.consumer(DEADLETTER, "ops")
    got = drain(consumer, 1) + settle(consumer, 1.0)
    assert [m.value for m in got] == [b"dead"]
    consumer.close()


def test_a_record_that_does_not_parse_is_an_error_naming_its_offset(bus_factory):
    bus = bus_factory()
    good = Article.create(source_id="s", url="http://example.cn/1", title="标题", content="正文")
    bus.publish(RAW, b'{"schema": "article/1", "title": ', key=b"bad")
    bus.publish(RAW, encode(good), key=b"bad")
    bus.flush()
    consumer = bus.consumer(RAW, "decoders")
    first, second = drain(consumer, 2)
    with pytest.raises(RecordError) as caught:
        decode(first.value, first.where)
    assert f"@{first.offset}" in str(caught.value) and "not JSON" in str(caught.value)
    assert decode(second.value, second.where) == good  # the consumer goes on with the next one
    consumer.close()


def test_lag_counts_what_is_published_but_not_yet_polled(bus_factory):
    bus = bus_factory()
    for i in range(9):
        bus.publish(RAW, f"m{i}".encode(), key=f"k{i}".encode())
    bus.flush()
    consumer = bus.consumer(RAW, "lagging")
    got = drain(consumer, 9)
    assert len(got) == 9 and consumer.lag() == 0
    for i in range(4):
        bus.publish(RAW, f"n{i}".encode(), key=b"one-story")  # one partition
    bus.flush()
    first: list = []
    while not first:
        first = consumer.poll(max_records=1, timeout_s=1.0)
    assert len(first) == 1
    assert consumer.lag() == 3  # Kafka knows the high-water mark once a fetch returned
    consumer.close()


def test_one_bus_can_be_shared_by_the_steps_threads(bus_factory):
    # `yuqing run` runs every step as a thread on one bus: each publishes, flushes and asks its
    # consumer for the lag after every batch, while a crawler in another process appends too.
    # On the embedded bus a lag query interleaved with another thread's flush once failed that
    # flush ("database is locked"), so the batch was redone and its records doubled.
    import threading

    bus, crawler = bus_factory(), bus_factory()
    topics = [SCORED, DEADLETTER, "alerts"]
    consumers = [bus.consumer(RAW, f"step-{i}") for i in range(len(topics))]
    errors: list[Exception] = []

    def step(topic, consumer):
        try:
            for i in range(60):
                for j in range(10):
                    bus.publish(topic, b"x" * 3000, key=f"k{j}".encode())
                bus.flush()
                consumer.lag()
        except Exception as exc:
            errors.append(exc)

    def crawl():
        for i in range(200):
            crawler.publish(RAW, b"y" * 3000, key=b"page")
            crawler.flush()

    threads = [threading.Thread(target=step, args=pair) for pair in zip(topics, consumers)]
    threads.append(threading.Thread(target=crawl))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for topic in topics:
        counter = bus.consumer(topic, "count")
        assert len(drain(counter, 600)) == 600 and settle(counter, quiet_s=1.0) == []
        counter.close()
    for consumer in consumers:
        consumer.close()
