"""Crawling many sources (issue 19): articles published as soon as they are read, rounds that fan
out across hosts, robots.txt kept across processes, settings and flags for the crawler."""

from __future__ import annotations

import threading

import pytest

from crawlers.fetch import Fetcher
from crawlers.politeness import Politeness
from crawlers.service import CrawlService, SourceWatcher, fan_out, host_of
from crawlers.snapshots import SnapshotStore
from crawlers.sources import Source
from crawlers.state import StateStore
from crawlers.testing import FixtureServer, news_page as page, news_sources_yaml, serve_news
from pipeline.bus import RAW
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.records import Article, decode
from pipeline.testing import drain

ITEMS = 12


def serve(server: FixtureServer) -> list[str]:
    return serve_news(server, 3, ITEMS)


def sources_yaml(server: FixtureServer) -> str:
    return news_sources_yaml(server, 3)


def test_an_article_is_on_the_bus_while_its_source_round_is_still_running(bus_factory, tmp_path,
                                                                           crawl_state):
    bus = bus_factory()
    with FixtureServer() as server:
        serve(server)
        last = server.route(f"/a/s0/{ITEMS - 1}.html", page(0, ITEMS - 1),
                            headers={"Content-Type": "text/html"}, gate=threading.Event())
        path = tmp_path / "sources.yaml"
        path.write_text(sources_yaml(server).split("  - id: site-1")[0], encoding="utf-8")
        with Fetcher(SnapshotStore(tmp_path / "snapshots"), Politeness(0), threads=2) as fetcher:
            crawl = CrawlService(SourceWatcher(path), bus, crawl_state, fetcher, workers=2)
            done = []
            round_ = threading.Thread(target=lambda: done.append(crawl.run_once()))
            round_.start()
            try:
                consumer = bus.consumer(RAW, "test-early")
                # entries are read in the feed's order; the last one's page is held back
                early = drain(consumer, ITEMS - 1)
                assert not done and round_.is_alive()  # the round waits on the held page
                assert len(early) == ITEMS - 1
            finally:
                last.gate.set()
                round_.join(30)
            (outcome,) = done[0]
            assert outcome.published == ITEMS
            rest = drain(consumer, 1)
            consumer.close()
    urls = {decode(m.value, m.where, expect=Article).url for m in early + rest}
    assert len(urls) == ITEMS


def source(id: str, url: str) -> Source:
    return Source(id=id, name=id, type="rss", url=url)


def test_a_round_fans_out_over_hosts_and_keeps_each_hosts_order():
    sources = [source("a1", "https://a.gov.cn/1"), source("a2", "https://a.gov.cn/2"),
               source("a3", "https://a.gov.cn/3"), source("b1", "https://b.gov.cn/rss"),
               source("c1", "http://c.gov.cn/x"), source("c2", "http://c.gov.cn/y")]
    assert [s.id for s in fan_out(sources)] == ["a1", "b1", "c1", "a2", "c2", "a3"]
    assert host_of(sources[3]) == "b.gov.cn"
    assert fan_out([]) == []


def test_robots_txt_is_kept_for_the_next_process_until_its_ttl(tmp_path):
    with FixtureServer() as server:
        server.route("/robots.txt", "User-agent: *\nDisallow: /private/\n")
        server.route("/feed.xml", "<rss/>")
        server.route("/private/feed.xml", "<rss/>")
        probe = Source(id="probe", name="probe", type="rss", url=server.url("/feed.xml"),
                       internal=True, rate_limit_per_minute=600)
        for _ in range(2):  # two processes, one after the other
            state = StateStore(tmp_path / "crawl_state.sqlite3")
            with Fetcher(politeness=Politeness(0), robots_cache=state) as fetcher:
                assert fetcher.fetch(probe, server.url("/feed.xml")).status == 200
                with pytest.raises(Exception, match="robots.txt disallows"):
                    fetcher.fetch(probe, server.url("/private/feed.xml"))
            state.close()
        assert server.hits("/robots.txt") == 1
        state = StateStore(tmp_path / "crawl_state.sqlite3")
        with Fetcher(politeness=Politeness(0), robots_cache=state, robots_ttl_s=0) as fetcher:
            fetcher.fetch(probe, server.url("/feed.xml"))  # a TTL of 0 trusts nothing kept
        state.close()
        assert server.hits("/robots.txt") == 2


def test_a_source_without_a_rate_takes_the_fetchers_default():
    slept: list[float] = []
    now = [100.0]
    gate = Politeness(host_delay_s=0.0, clock=lambda: now[0], sleep=slept.append)
    with FixtureServer() as server:
        server.route("/feed.xml", "<rss/>")
        probe = Source(id="probe", name="probe", type="rss", url=server.url("/feed.xml"),
                       internal=True, robots=False)
        assert probe.rate_limit_per_minute is None
        with Fetcher(politeness=gate, default_rate_per_minute=6) as fetcher:
            fetcher.fetch(probe, server.url("/feed.xml"))
            fetcher.fetch(probe, server.url("/feed.xml"))
    assert slept == [10.0]  # 6 a minute: one every 10 s


def test_crawl_settings_are_typed_and_a_mistake_names_the_line(tmp_path):
    good = tmp_path / "yuqing.yaml"
    good.write_text("crawl:\n  workers: 64\n  host_delay_s: 0.5\n  page_attempts: 3\n",
                    encoding="utf-8")
    crawl = load_settings(good, env={}).crawl
    assert (crawl.workers, crawl.host_delay_s, crawl.page_attempts) == (64, 0.5, 3)
    assert load_settings(None, env={}).crawl.workers == 32
    bad = tmp_path / "bad.yaml"
    bad.write_text("crawl:\n  workers: 8\n  host_delay: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad, env={})
    assert any("bad.yaml:3" in p and "crawl.host_delay" in p for p in caught.value.problems)


def test_robots_txt_waits_for_the_hosts_gap_but_spends_none_of_the_sources_rate():
    slept: list[float] = []
    now = [100.0]
    gate = Politeness(host_delay_s=1.0, clock=lambda: now[0], sleep=slept.append)
    with FixtureServer() as server:
        server.route("/robots.txt", "User-agent: *\nAllow: /\n")
        server.route("/feed.xml", "<rss/>")
        probe = Source(id="probe", name="probe", type="rss", url=server.url("/feed.xml"),
                       internal=True, rate_limit_per_minute=6)
        with Fetcher(politeness=gate) as fetcher:
            fetcher.fetch(probe, server.url("/feed.xml"))  # robots.txt, then the feed
            fetcher.fetch(probe, server.url("/feed.xml"))  # the feed again: the source's rate
    # robots.txt at 100 s; the feed 1 s later (the host's gap, not the source's 10 s); the
    # feed again 10 s after that one (the clock stands still here: 11 s from 100)
    assert slept == [1.0, 11.0]
