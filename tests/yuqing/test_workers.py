"""Stream workers as processes: killed mid-run, stopped by SIGTERM, and cut off from the index.

Run on every backend pair, so in CI the crash test runs against the real Kafka and Elasticsearch.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from classifiers.keywords import KeywordScorer
from pipeline.bus import SCORED
from pipeline.bus.local import LocalBus
from pipeline.config import load_settings
from pipeline.flow import StepCount, Worker, index_step, publish_articles
from pipeline.index.elasticsearch import ElasticsearchIndex
from pipeline.index.sqlite import SqliteIndex
from pipeline.records import Article
from pipeline.testing import ES_URL, TcpProxy, require_service, unique
from yuqing.app import Application


def articles(n: int, tag: str = "") -> list[Article]:
    return [Article.create(source_id="jxlz", url=f"https://www.jxlz.gov.cn/{tag}{i}.html",
                           title=f"某县{tag}第{i}号通报：原局长涉嫌严重违纪违法",
                           content=f"据县纪委监委消息，{tag}第{i}号案件当事人正接受审查调查。")
            for i in range(n)]


def classify(bus, tmp_path: Path) -> None:
    """Score what is on ``articles.raw`` with the keyword baseline, as the classify step does."""
    settings = load_settings(None, overrides={("paths", "data_dir"): str(tmp_path / "data")})
    Application(settings, bus=bus, scorer=KeywordScorer(), cluster_stories=False).drain("classify", idle_s=3.0)


def settings_file(tmp_path: Path, bus, index) -> Path:
    """A yuqing.yaml naming the same bus and index the test's fixtures opened."""
    if isinstance(bus, LocalBus):
        bus_lines = [f"  url: sqlite:///{bus.path}"]
    else:
        bus_lines = [f"  url: {bus.url}", f"  topic_prefix: '{bus.prefix}'"]
    if isinstance(index, SqliteIndex):
        index_lines = [f"  url: sqlite:///{index.path}"]
    else:
        index_lines = [f"  url: {index.url}", f"  name: {index.name}"]
    path = tmp_path / "yuqing.yaml"
    path.write_text("\n".join(["bus:", *bus_lines, "index:", *index_lines,
                               "paths:", f"  data_dir: {tmp_path / 'data'}"]) + "\n")
    return path


def yuqing(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yuqing.cli.main", "--config", str(config),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout_s: float = 60.0, every_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return False


def indexed(index) -> int:
    index.refresh()
    return index.count()


def test_a_killed_index_worker_resumes_with_every_article_exactly_once(
        bus_factory, index_factory, tmp_path):
    bus, index = bus_factory(), index_factory()
    batch = articles(300)
    publish_articles(bus, batch)
    classify(bus, tmp_path)
    config = settings_file(tmp_path, bus, index)

    first = yuqing(config, "worker", "index", "--batch", "20")
    try:
        assert wait_for(lambda: indexed(index) >= 40), first.stdout and first.stdout.read()
    finally:
        first.send_signal(signal.SIGKILL)  # dies between batches or mid-batch: no goodbye
        first.wait(30)

    second = yuqing(config, "worker", "index", "--batch", "20", "--until-idle")
    out, _ = second.communicate(timeout=180)
    assert second.returncode == 0, out
    assert indexed(index) == 300
    assert all(index.get(a.id) is not None for a in batch)


def test_sigterm_finishes_the_batch_and_exits_cleanly(tmp_path):
    bus = LocalBus(tmp_path / "bus.sqlite3")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    publish_articles(bus, articles(50))
    config = settings_file(tmp_path, bus, index)
    run = yuqing(config, "run")
    assert wait_for(lambda: indexed(index) == 50, timeout_s=90)
    run.send_signal(signal.SIGTERM)
    out, _ = run.communicate(timeout=30)
    assert run.returncode == 0, out
    assert "index: read 50, written 50" in out
    assert "alert: read 50, written 50" in out  # every one of them is a level >= 1 case notice


@pytest.fixture
def elasticsearch_index():
    require_service("Elasticsearch", ES_URL)
    index = ElasticsearchIndex(ES_URL, name=unique("test-outage-"))
    yield index
    index.delete_index()


@pytest.mark.elasticsearch
def test_an_index_outage_mid_run_loses_nothing(bus_factory, elasticsearch_index, tmp_path):
    bus, direct = bus_factory(), elasticsearch_index
    target = urlsplit(direct.url)
    with TcpProxy(target.hostname, target.port) as proxy:
        through = ElasticsearchIndex(proxy.url("http"), name=direct.name, timeout_s=5)
        count = StepCount()
        worker = Worker(bus, SCORED, "index", index_step(bus, through, count),
                             batch_size=20, max_backoff_s=2.0)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)

        publish_articles(bus, articles(60, "a"))
        classify(bus, tmp_path)
        thread.start()
        try:
            assert wait_for(lambda: indexed(direct) == 60)
            proxy.cut()
            publish_articles(bus, articles(60, "b"))
            classify(bus, tmp_path)
            assert wait_for(lambda: worker.failures > 0, timeout_s=30)
            assert indexed(direct) == 60  # nothing got through while cut
            proxy.restore()
            assert wait_for(lambda: indexed(direct) == 120, timeout_s=90)
        finally:
            stop.set()
            thread.join(30)
    assert indexed(direct) == 120


def test_run_crawls_with_the_workers_and_host_delay_given_and_indexes_every_article(tmp_path):
    from crawlers.testing import FixtureServer, news_sources_yaml, serve_news

    bus = LocalBus(tmp_path / "bus.sqlite3")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    config = settings_file(tmp_path, bus, index)
    with FixtureServer() as server:
        serve_news(server, 3, 4)
        sources = tmp_path / "sources.yaml"
        sources.write_text(news_sources_yaml(server, 3), encoding="utf-8")
        run = yuqing(config, "run", "--sources", str(sources), "--workers", "2", "--host-delay", "0")
        try:
            assert wait_for(lambda: indexed(index) == 12, timeout_s=120)
        finally:
            run.send_signal(signal.SIGTERM)
            out, _ = run.communicate(timeout=60)
    assert run.returncode == 0, out
    assert "yuqing run: crawl, classify" in out
    assert not list((tmp_path / "data" / "briefings").glob("*.pdf"))  # none at a first start
