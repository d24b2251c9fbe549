"""How long the bus keeps records (issue 19): retention.ms on yuqing's Kafka topics, from the
settings; the embedded bus drops old records itself, and offsets keep counting up after."""

from __future__ import annotations

import time

import pytest

from pipeline.backends import open_bus
from pipeline.bus import RAW, SCORED
from pipeline.bus.local import LocalBus
from pipeline.config import load_settings
from pipeline.testing import KAFKA_URL, drain, drop_test_topics, require_service, unique


def test_the_embedded_bus_drops_old_records_and_offsets_go_on(tmp_path):
    bus = LocalBus(tmp_path / "bus.sqlite3", partitions=1)
    for n in range(5):
        bus.publish(RAW, f"old {n}".encode(), key=b"k")
    bus.flush()
    reader = bus.consumer(RAW, "slow-reader")
    (first,) = reader.poll(max_records=1, timeout_s=1.0)
    reader.commit()
    assert bus.usage()[RAW][0] == 5
    assert bus.prune(int(time.time() * 1000) + 1000) == 4  # all but the newest of the partition
    bus.publish(RAW, b"new", key=b"k")
    bus.flush()
    assert bus.end_offsets(RAW) == {0: 6}  # counting on, not from 0 again
    got = [m.value for m in drain(reader, 2)]
    assert got == [b"old 4", b"new"]  # what was dropped is gone, read or not, as on Kafka
    reader.close()
    bus.close()


def test_the_embedded_bus_applies_its_retention_as_it_writes(tmp_path):
    path = tmp_path / "bus.sqlite3"
    old = LocalBus(path, partitions=1)
    for n in range(3):
        old.publish(SCORED, f"{n}".encode(), key=b"k")
    old.flush()
    old.close()
    time.sleep(0.01)  # the records above are now older than a 5 ms retention
    bus = LocalBus(path, partitions=1, retention_ms=5)
    bus.publish(SCORED, b"fresh", key=b"k")
    bus.flush()  # the first flush prunes
    assert bus.usage()[SCORED][0] == 1
    bus.close()


def test_retention_days_is_a_setting_of_the_bus(tmp_path):
    path = tmp_path / "yuqing.yaml"
    path.write_text("bus:\n  retention_days: 3\n", encoding="utf-8")
    settings = load_settings(path, env={}, overrides={("paths", "data_dir"): str(tmp_path)})
    bus = open_bus(settings)
    assert bus.retention_ms == 3 * 86_400_000
    bus.close()


@pytest.mark.kafka
def test_kafka_topics_get_the_retention_of_the_settings_new_or_not():
    require_service("Kafka", KAFKA_URL)
    from pipeline.bus.kafka import KafkaBus

    prefix = unique("test.") + "."
    bus = KafkaBus(KAFKA_URL, partitions=1, topic_prefix=prefix, retention_ms=2 * 86_400_000)
    assert bus.topic_retention_ms(RAW) == 2 * 86_400_000
    bus.close()
    again = KafkaBus(KAFKA_URL, partitions=1, topic_prefix=prefix, retention_ms=86_400_000)
    try:
        assert again.topic_retention_ms(RAW) == again.topic_retention_ms(SCORED) == 86_400_000
    finally:
        again.close()
        drop_test_topics(KAFKA_URL, prefix)
