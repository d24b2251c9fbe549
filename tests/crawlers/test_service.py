"""The crawl service: sources on the bus (embedded and real Kafka), isolation, reload, shards."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from crawlers.service import CrawlService, SourceWatcher, in_shard, parse_shard
from crawlers.state import health
from pipeline.bus import RAW
from pipeline.records import Article, decode
from pipeline.testing import drain, settle
from yuqing.cli.main import main

SELECTORS = """
    extraction:
      title: h1.title
      body: div.TRS_Editor
      date: div.info"""


def sources_yaml(server, *extra: str) -> str:
    """Three sources on the fixture server (internal, and fast: the tests are its only client)."""
    base = f"""sources:
  - id: county-rss
    name: 示范县 RSS
    type: rss
    url: {server.url('/feeds/rss20.xml')}
    internal: true
    rate_limit_per_minute: 600
  - id: portal-atom
    name: 省新闻网 Atom
    type: rss
    url: {server.url('/feeds/atom.xml')}
    internal: true
    rate_limit_per_minute: 600
  - id: county-sitemap
    name: 示范县 网站地图
    type: sitemap
    url: {server.url('/feeds/sitemap_news.xml')}
    internal: true
    rate_limit_per_minute: 600{SELECTORS}
"""
    return base + "".join(extra)


def service(tmp_path, bus, crawl_state, fetcher, text: str, **kwargs) -> CrawlService:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return CrawlService(SourceWatcher(path), bus, crawl_state, fetcher, **kwargs)


def test_crawled_articles_arrive_on_the_bus_once(bus_factory, fixture_server, fetcher, crawl_state,
                                                 tmp_path):
    bus = bus_factory()
    crawl = service(tmp_path, bus, crawl_state, fetcher, sources_yaml(fixture_server))
    outcomes = crawl.run_once()
    assert {o.source_id: o.published for o in outcomes} == {
        "county-rss": 3, "portal-atom": 2, "county-sitemap": 2}
    consumer = bus.consumer(RAW, "test-crawl")
    messages = drain(consumer, 7)
    got = [decode(m.value, m.where, expect=Article) for m in messages]
    assert len(got) == 7 and {a.source_id for a in got} == {"county-rss", "portal-atom",
                                                           "county-sitemap"}
    assert "示范县某局原局长接受纪律审查和监察调查" in {a.title for a in got}
    assert [m.key for m in messages] == [a.key() for a in got]  # one story, one partition
    # evidence: the feed and each page read are logged with their snapshot
    assert crawl_state.snapshots_of(fixture_server.url("/feeds/rss20.xml"))
    assert crawl_state.snapshots_of(fixture_server.url("/sites/t20260305_1.html"))
    consumer.commit()
    assert sum(o.published for o in crawl.run_once()) == 0  # nothing new: nothing again
    assert settle(consumer) == []
    consumer.close()


def test_a_failing_or_slow_source_never_stops_the_others(fixture_server, fetcher, crawl_state,
                                                         tmp_path, bus_factory):
    fixture_server.route("/slow.xml", body=b"<rss>" + b" " * 400 + b"</rss>", trickle_s=0.05)
    fixture_server.route("/busy.xml", status=429, headers={"Retry-After": "600"})
    fixture_server.route("/jsl.xml", status=521,
                         body=(fixture_server.root / "sites" / "challenge.html").read_bytes())
    extra = "".join(f"""  - id: {sid}
    name: {sid}
    type: rss
    url: {fixture_server.url(path)}
    internal: true
    rate_limit_per_minute: 600
    deadline_s: 1
    timeout_s: 1
""" for sid, path in [("slow", "/slow.xml"), ("busy", "/busy.xml"), ("gone", "/nothing.xml"),
                      ("jsl", "/jsl.xml")])
    bus = bus_factory()
    crawl = service(tmp_path, bus, crawl_state, fetcher, sources_yaml(fixture_server, extra))
    started = time.monotonic()
    outcomes = {o.source_id: o for o in crawl.run_once()}
    assert time.monotonic() - started < 10
    assert outcomes["county-rss"].published == 3 and outcomes["portal-atom"].published == 2
    assert {sid: outcomes[sid].status for sid in ("slow", "busy", "gone", "jsl")} == {
        "slow": "deadline", "busy": "rate_limited", "gone": "http_error", "jsl": "blocked"}
    now = datetime.now(timezone.utc)
    busy = crawl_state.state("busy")
    assert busy.next_due_at >= now + timedelta(seconds=590)  # Retry-After honoured
    assert busy.last_error.startswith(f"busy: {fixture_server.url('/busy.xml')}: rate_limited")
    words = {sid: health(crawl_state.state(sid), 86400, now) for sid in outcomes}
    assert words == {"county-rss": "ok", "portal-atom": "ok", "county-sitemap": "ok",
                     "slow": "failing_soft", "busy": "failing_soft", "gone": "failing_hard",
                     "jsl": "blocked"}


def test_an_edit_takes_effect_and_an_invalid_edit_keeps_the_last_valid_sources(tmp_path, caplog):
    path = tmp_path / "sources.yaml"
    one = "sources:\n  - id: a\n    name: A\n    type: rss\n    url: https://a.example.cn/rss\n"
    path.write_text(one, encoding="utf-8")
    watcher = SourceWatcher(path)
    assert watcher.check() is False
    path.write_text(one + "  - id: b\n    name: B\n    type: rss\n    url: https://b.example.cn/rss\n",
                    encoding="utf-8")
    assert watcher.check() is True and [s.id for s in watcher.current.sources] == ["a", "b"]
    path.write_text(one + "  - id: c\n    name: C\n    type: rss\n    ur: https://c.example.cn/\n",
                    encoding="utf-8")
    assert watcher.check() is False and [s.id for s in watcher.current.sources] == ["a", "b"]
    assert f"{path}:9:5: sources[1].ur: unknown key; did you mean 'url'?" in watcher.last_problems[0]
    assert "the last valid configuration keeps running" in caplog.text


def test_the_running_service_picks_up_an_edit(fixture_server, fetcher, crawl_state, tmp_path,
                                              bus_factory):
    bus = bus_factory()
    first = sources_yaml(fixture_server).split("  - id: portal-atom")[0]
    crawl = service(tmp_path, bus, crawl_state, fetcher, first)
    stop = threading.Event()
    runner = threading.Thread(target=crawl.run_forever, args=(stop,),
                              kwargs={"reload_every_s": 0.1, "tick_s": 0.05})
    runner.start()
    try:
        consumer = bus.consumer(RAW, "test-reload")
        assert len(drain(consumer, 3)) == 3
        (tmp_path / "sources.yaml").write_text(sources_yaml(fixture_server), encoding="utf-8")
        assert len(drain(consumer, 4)) == 4  # atom (2) and sitemap (2) joined without a restart
        consumer.close()
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_shards_split_the_sources_without_overlap():
    ids = [f"source-{i}" for i in range(300)]
    shards = [{i for i in ids if in_shard(i, (k, 3))} for k in range(3)]
    assert set().union(*shards) == set(ids) and sum(map(len, shards)) == 300
    assert all(70 < len(s) < 130 for s in shards)
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "x", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_crawl_once_from_the_command_line(fixture_server, tmp_path, capsys):
    (tmp_path / "sources.yaml").write_text(sources_yaml(fixture_server), encoding="utf-8")
    code = main(["--data-dir", str(tmp_path / "data"), "crawl", "--once", "--no-scrapy",
                 "--host-delay", "0", "--sources", str(tmp_path / "sources.yaml")])
    out = capsys.readouterr().out
    assert code == 0 and out.strip().endswith(
        "3 sources polled, 7 articles published, 0 sources failed, 0 article pages failed (kept "
        "for a retry), 0 given up")
    assert main(["--data-dir", str(tmp_path / "data"), "sources", "list",
                 str(tmp_path / "sources.yaml")]) == 0
    listing = capsys.readouterr().out
    assert "county-rss" in listing and " ok " in listing
    assert main(["crawl", "--once", "--shard", "3/2", "--sources", str(tmp_path / "sources.yaml")]) == 2


def test_sources_test_prints_what_would_be_published(fixture_server, tmp_path, capsys):
    (tmp_path / "sources.yaml").write_text(sources_yaml(fixture_server), encoding="utf-8")
    code = main(["--data-dir", str(tmp_path / "data"), "sources", "test", "county-sitemap",
                 "--sources", str(tmp_path / "sources.yaml")])
    out = capsys.readouterr().out
    assert code == 0
    assert "2026-03-05 10:20  示范县某局原局长接受纪律审查和监察调查" in out  # Beijing time
    assert "    据示范县纪委监委消息，示范县某局原局长涉嫌严重违纪违法" in out
    assert fixture_server.url("/sites/t20260305_1.html") in out
    assert "county-sitemap: 2 articles would be published (0 warnings); nothing was published" in out
    assert not (tmp_path / "data").exists()  # a dry run leaves no state, no snapshots, no bus
    assert main(["sources", "test", "nope", "--sources", str(tmp_path / "sources.yaml")]) == 2


def test_html_sources_go_to_the_spider_next_to_the_pollers(bus_factory, fixture_server, fetcher,
                                                           crawl_state, tmp_path):
    from crawlers.spider import BusSpec, ScrapyRunner

    html = f"""  - id: county-list
    name: 示范县 工作动态
    type: html
    url: {fixture_server.url('/sites/list.html')}
    internal: true
    rate_limit_per_minute: 600
    extraction:
      items: ul.list li
  - id: broken-list
    name: 不存在的栏目
    type: html
    url: {fixture_server.url('/missing/')}
    internal: true
"""
    bus = bus_factory()
    runner = ScrapyRunner(BusSpec.of(bus), tmp_path / "crawl_state.sqlite3")
    crawl = service(tmp_path, bus, crawl_state, fetcher, sources_yaml(fixture_server, html),
                    html_runner=runner)
    outcomes = {o.source_id: o for o in crawl.run_once()}
    assert {k: (o.status, o.published) for k, o in outcomes.items()} == {
        "county-rss": ("ok", 3), "portal-atom": ("ok", 2), "county-sitemap": ("ok", 2),
        "county-list": ("ok", 4), "broken-list": ("http_error", 0)}
    consumer = bus.consumer(RAW, "test-spider-service")
    assert len(drain(consumer, 11)) == 11
    consumer.close()


def test_a_shortened_interval_takes_effect_without_waiting_out_the_old_one(
        fixture_server, fetcher, crawl_state, tmp_path, bus_factory):
    daily = sources_yaml(fixture_server).split("  - id: portal-atom")[0].replace(
        "    internal: true\n", "    internal: true\n    interval: 1d\n", 1)
    crawl = service(tmp_path, bus_factory(), crawl_state, fetcher, daily)
    crawl.run_once()
    stop = threading.Event()
    runner = threading.Thread(target=crawl.run_forever, args=(stop,),
                              kwargs={"reload_every_s": 0.1, "tick_s": 0.05})
    runner.start()
    try:
        time.sleep(0.5)
        assert fixture_server.hits("/feeds/rss20.xml") == 1  # due tomorrow
        (tmp_path / "sources.yaml").write_text(daily.replace("interval: 1d", "interval: 1s"),
                                               encoding="utf-8")
        deadline = time.monotonic() + 5
        while fixture_server.hits("/feeds/rss20.xml") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fixture_server.hits("/feeds/rss20.xml") >= 2
    finally:
        stop.set()
        runner.join(10)
