"""The alert queue into the workflow: on every bus, reposts join their story, a poison record goes to
``deadletter`` and the rest go on, and an outage of the alert database loses nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.engine import make_url

from alerting.access import SYSTEM
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.intake import intake_step
from alerting.service import AlertService
from alerting.store import open_store
from alerting.testing import NINE, scored
from pipeline import bus as topics
from pipeline.flow import StepCount, Worker, drain as run_until_idle
from pipeline.records import encode
from pipeline.testing import TcpProxy, drain


def take_in(bus, service: AlertService) -> StepCount:
    """The intake step over the alert queue until it is idle."""
    count = StepCount()
    run_until_idle(bus, topics.ALERTS, "intake", intake_step(bus, service, count), "intake")
    return count


def queue(bus, records) -> None:
    for record in records:
        bus.publish(topics.ALERTS, record if isinstance(record, bytes) else encode(record), key=b"k")
    bus.flush()


def test_the_alert_queue_becomes_one_alert_per_story_and_a_poison_record_is_set_aside(
        bus_factory, store_factory):
    bus = bus_factory()
    service = AlertService(store_factory(), AlertingConfig(), clock=ManualClock(NINE), channels={})
    story = [scored("网传某镇干部吃拿卡要", at=NINE, level=2, story="i1", source=f"forum-{n}",
                    text=f"第{n}次转帖：网传某镇干部吃拿卡要") for n in range(3)]
    other = scored("某村低保优亲厚友", at=NINE, level=1, story="i2")
    queue(bus, [story[0], b"\x00 not a record", story[1], other, story[2], story[1]])

    count = take_in(bus, service)

    assert (count.read, count.written, count.dead) == (6, 5, 1)
    alerts = {a.story_key: a for a in service.list(SYSTEM)}
    assert set(alerts) == {"i1", "i2"} and alerts["i1"].articles == 3
    dead = drain(bus.consumer(topics.DEADLETTER, "check"), 1)
    assert b"intake" in dead[0].value and b"alerts[" in dead[0].value


def test_an_article_the_database_cannot_take_is_set_aside_alone(bus_factory, store_factory):
    bus = bus_factory()
    service = AlertService(store_factory(), AlertingConfig(), clock=ManualClock(NINE), channels={})
    bad = scored("网传某干部违规收礼", at=NINE, level=2, story="x1", source="s" * 300)
    good = [scored(f"第{n}条：网传某局长公车私用", at=NINE, level=2, story=f"x{n + 2}") for n in range(3)]
    queue(bus, [good[0], bad, good[1], good[2]])

    count = take_in(bus, service)

    assert (count.read, count.written, count.dead) == (4, 3, 1)
    assert sorted(a.story_key for a in service.list(SYSTEM)) == ["x2", "x3", "x4"]
    (letter,) = drain(bus.consumer(topics.DEADLETTER, "check"), 1)
    assert b"source id of 300 characters" in letter.value


@pytest.mark.postgres
def test_an_outage_of_the_alert_database_loses_nothing(bus_factory, postgres_url):
    """PostgreSQL cut off mid-run (through a proxy the test can cut): the worker backs off, keeps
    the batch uncommitted, and takes it in once the database is back; nothing lost or doubled."""
    bus = bus_factory()
    real = make_url(postgres_url)
    with TcpProxy(real.host, real.port) as proxy:
        store = open_store(real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        service = AlertService(store, AlertingConfig(), clock=ManualClock(NINE), channels={})
        queue(bus, [scored(f"第{n}条：网传某干部违规收礼", at=NINE, level=2, story=f"o{n}") for n in range(10)])
        proxy.cut()
        count = StepCount()
        worker = Worker(bus, topics.ALERTS, "intake", intake_step(bus, service, count), idle_s=0.5,
                        max_backoff_s=1.0, name="intake")
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: worker.failures >= 2), "the worker should have met the outage"
            proxy.restore()
            assert wait_for(lambda: len(service.list(SYSTEM)) == 10, timeout_s=60)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert sum(a.articles for a in service.list(SYSTEM)) == 10
        store.close()


def wait_for(condition, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # the database may still be coming back
            pass
        time.sleep(0.1)
    return False


def test_two_intake_workers_opening_one_new_story_at_once_both_keep_their_article(store_url):
    """The alerts topic is keyed by article: two reposts of one new story may reach two intake
    workers, which both try to open its alert (on PostgreSQL truly at once; SQLite takes one
    writer at a time). The second joins the first's alert instead of failing its article."""
    clock = ManualClock(NINE)
    workers = [AlertService(open_store(store_url), AlertingConfig(), clock=clock, channels={}) for _ in range(2)]
    batches = [[scored(f"镇干部违规吃喝事件{i}", at=NINE, story=f"story-{i}", source=source,
                       text=f"镇干部违规吃喝事件{i}，来源{source}。") for i in range(20)]
               for source in ("weibo-huichang", "tieba-huichang")]
    outcomes: list[list] = [[], []]

    def work(k: int) -> None:
        outcomes[k] = workers[k].ingest_many(batches[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert [o for both in outcomes for o in both if isinstance(o, Exception)] == []
        assert outcomes[0] == outcomes[1]   # one alert a story, whoever opened it
        assert {workers[0].show(alert_id, SYSTEM).alert.articles for alert_id in outcomes[0]} == {2}
    finally:
        for worker in workers:
            worker.store.close()
