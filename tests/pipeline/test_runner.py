"""The step runner's promise (pipeline.errors, pipeline.flow.handle_batch): whatever one record
raises, that record alone goes to the dead-letter topic with the reason and the batch goes on; a
Drop is counted; only an unreachable backend stops the batch, uncommitted, to be retried."""

from __future__ import annotations

import json

import pytest

from pipeline.bus import DEADLETTER, RAW
from pipeline.bus.local import LocalBus
from pipeline.errors import BackendUnavailable, Drop, Quarantine, RecordError
from pipeline.flow import StepCount, Worker, handle_batch
from pipeline.records import Article, decode, encode
from pipeline.testing import drain

OUTCOMES = {
    b"fine": None,
    b"drop": Drop("duplicate"),
    b"quarantine": Quarantine("source id too long; fix sources.yaml"),
    b"record": RecordError("articles.raw[0]@2", "not JSON"),
    b"bug": KeyError("title"),
    b"deep": RecursionError("maximum recursion depth exceeded"),
    b"huge": ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
}


def handler(handled: list[bytes]):
    def handle(message) -> None:
        outcome = OUTCOMES[message.value]
        if outcome is not None:
            raise outcome
        handled.append(message.value)
    return handle


def publish(bus: LocalBus, values) -> None:
    for value in values:
        bus.publish(RAW, value, key=b"k")
    bus.flush()


def letters(bus: LocalBus, n: int) -> dict[str, dict]:
    return {json.loads(m.value)["value"]: json.loads(m.value) for m in drain(bus.consumer(DEADLETTER, "ops"), n)}


def test_every_failure_of_one_record_dead_letters_that_record_and_the_batch_goes_on(tmp_path):
    bus = LocalBus(tmp_path / "bus.sqlite3")
    publish(bus, [b"bug", b"fine", b"drop", b"deep", b"quarantine", b"huge", b"record", b"fine"])
    batch = bus.consumer(RAW, "t").poll(max_records=50, timeout_s=2.0)
    handled: list[bytes] = []
    count = StepCount()

    handle_batch(bus, "classify", batch, handler(handled), count)
    bus.flush()

    assert handled == [b"fine", b"fine"]
    assert (count.read, count.dead, count.dropped) == (8, 5, {"duplicate": 1})
    dead = letters(bus, 5)
    assert set(dead) == {"bug", "deep", "quarantine", "huge", "record"}
    # our own errors explain themselves; anything else carries its type, so a bug is told apart
    assert dead["quarantine"]["reason"] == "source id too long; fix sources.yaml"
    assert dead["record"]["reason"] == "articles.raw[0]@2: not JSON"
    assert dead["bug"]["reason"] == "KeyError: 'title'"
    assert dead["deep"]["reason"].startswith("RecursionError")
    assert all(letter["stage"] == "classify" and letter["origin"].startswith("articles.raw[")
               for letter in dead.values())


def test_an_unreachable_backend_stops_the_batch_uncommitted_and_it_comes_back(tmp_path):
    bus = LocalBus(tmp_path / "bus.sqlite3")
    publish(bus, [b"fine", b"fine", b"fine"])
    down = {"yes": True}
    seen: list[int] = []

    def step(batch) -> None:
        def handle(message) -> None:
            if down["yes"]:
                down["yes"] = False  # the backend comes back for the retry
                raise BackendUnavailable("index at http://127.0.0.1:9: refused")
            seen.append(message.offset)
        handle_batch(bus, "index", batch, handle, StepCount())

    worker = Worker(bus, RAW, "index", step, idle_s=1.0, max_backoff_s=0.1)
    worker.run(until_idle=True)
    assert sorted(seen) == [0, 1, 2]  # the first batch was delivered again, whole
    assert drain(bus.consumer(DEADLETTER, "ops"), 1, timeout_s=1.0) == []


def test_a_bus_locked_by_another_writer_is_waited_out_not_fatal(tmp_path, monkeypatch):
    """Another process holding the embedded bus's write lock (a VACUUM of a large bus) for longer
    than the lock wait: the worker backs off and commits once the lock is gone."""
    import sqlite3
    import threading

    from pipeline.bus import local

    monkeypatch.setattr(local, "LOCK_WAIT_S", 0.2)
    bus = LocalBus(tmp_path / "bus.sqlite3")
    publish(bus, [b"fine", b"fine"])
    other = sqlite3.connect(tmp_path / "bus.sqlite3", isolation_level=None, check_same_thread=False)
    seen: list[int] = []

    def step(batch) -> None:
        if not seen:   # the lock is taken between the poll and the commit of the first batch
            other.execute("BEGIN EXCLUSIVE")
            threading.Timer(1.0, lambda: other.execute("COMMIT")).start()
        handle_batch(bus, "index", batch, lambda m: seen.append(m.offset), StepCount())

    worker = Worker(bus, RAW, "index", step, idle_s=0.5, max_backoff_s=0.5)
    worker.run(until_idle=True)        # raised sqlite3.OperationalError before
    assert sorted(set(seen)) == [0, 1]
    assert drain(bus.consumer(RAW, "index"), 1, timeout_s=0.5) == []   # committed in the end


@pytest.mark.parametrize("poison, why", [
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (b'{"schema": "article/1", "n": ' + b"9" * 5000 + b"}", "not a record"),
    (b"\xff\xfe not utf-8", "not UTF-8"),
])
def test_records_built_to_break_the_decoder_are_record_errors(poison, why):
    with pytest.raises(RecordError) as raised:
        decode(poison, "articles.raw[1]@7", expect=Article)
    assert raised.value.where == "articles.raw[1]@7" and why in raised.value.reason


def test_a_good_record_still_decodes():
    article = Article.create(source_id="s", url="http://example.cn/1", title="标题", content="正文")
    assert decode(encode(article), "articles.raw[0]@0", expect=Article) == article
