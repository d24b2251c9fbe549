"""Nothing lost (issue 19): an article whose page failed is tried again on later rounds, even when
the feed answers 304, until it is published or given up; every failure is counted and the exit
code of ``crawl --once`` says so. Against a local server that fails requests at random."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from crawlers.fetch import Fetcher
from crawlers.poll import RetryPolicy
from crawlers.politeness import Politeness
from crawlers.service import CrawlService, SourceWatcher
from crawlers.snapshots import SnapshotStore
from crawlers.testing import FixtureServer, news_page as page, news_sources_yaml, serve_news
from pipeline.bus import RAW
from pipeline.records import Article, decode
from pipeline.testing import drain, settle
from yuqing.cli.main import main

SOURCES, ITEMS = 5, 12


def serve(server: FixtureServer) -> list[str]:
    return serve_news(server, SOURCES, ITEMS)


def sources_yaml(server: FixtureServer) -> str:
    return news_sources_yaml(server, SOURCES)

START = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)


class Clock:
    """The crawl service's clock, moved on by the test between rounds."""

    def __init__(self):
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def crawler(tmp_path, server, bus, crawl_state, clock, retry: RetryPolicy) -> CrawlService:
    path = tmp_path / "sources.yaml"
    path.write_text(sources_yaml(server), encoding="utf-8")
    fetcher = Fetcher(SnapshotStore(tmp_path / "snapshots"), Politeness(host_delay_s=0.0),
                      threads=4, robots_cache=crawl_state)
    return CrawlService(SourceWatcher(path), bus, crawl_state, fetcher, workers=4, retry=retry,
                        clock=clock)


def test_random_fetch_failures_over_several_rounds_lose_no_article(bus_factory, crawl_state,
                                                                     tmp_path):
    bus = bus_factory()
    clock = Clock()
    with FixtureServer() as server:
        urls = serve(server)
        server.fail_at_random(0.3, seed=19)  # feeds, pages and robots.txt alike
        crawl = crawler(tmp_path, server, bus, crawl_state, clock,
                        RetryPolicy(max_attempts=30, first_wait_s=60))
        rounds = []
        for _ in range(25):
            rounds.append(crawl.run_once())
            clock.now += timedelta(minutes=30)  # every retry's wait is over by the next round
            if not crawl_state.pending() and all(not o.error for o in rounds[-1]) and \
                    sum(o.published for r in rounds for o in r) >= len(urls):
                break
        crawl.poller.fetcher.close()
        failed = dict(server.failed)

    assert sum(failed.values()) > 20 and all(failed.values())  # every way of failing happened
    # the failures were seen and counted, round by round
    assert sum(o.page_failures for r in rounds for o in r) > 0
    assert any(o.error for r in rounds for o in r)
    # pages that failed were read again on rounds where the feed itself answered 304
    assert any(o.status == "not_modified" and o.published for r in rounds[1:] for o in r)
    assert not crawl_state.pending()
    assert not any(o.gave_up for r in rounds for o in r)
    # and every article is on the bus exactly once
    consumer = bus.consumer(RAW, "test-lossless")
    got = [decode(m.value, m.where, expect=Article) for m in drain(consumer, len(urls))]
    assert settle(consumer) == []
    consumer.close()
    assert Counter(a.url for a in got) == Counter(urls)
    assert all("公款吃喝" in a.content for a in got)  # the full text, not the feed's summary


def test_a_page_that_keeps_failing_is_given_up_and_reported(bus_factory, crawl_state, tmp_path):
    bus = bus_factory()
    clock = Clock()
    with FixtureServer() as server:
        serve(server)
        broken = "/a/s2/5.html"
        server.route(broken, status=500, body="internal error")
        broken_url = server.url(broken)
        crawl = crawler(tmp_path, server, bus, crawl_state, clock,
                        RetryPolicy(max_attempts=3, first_wait_s=600))
        first = {o.source_id: o for o in crawl.run_once()}
        assert first["site-2"].published == ITEMS - 1 and first["site-2"].page_failures == 1
        assert first["site-2"].failed and not first["site-1"].failed
        (kept,) = crawl_state.pending("site-2")
        assert kept.attempts == 1 and kept.next_at == START + timedelta(seconds=600)

        clock.now += timedelta(seconds=300)  # not yet due: the feed is 304 and nothing is asked
        again = {o.source_id: o for o in crawl.run_once()}
        assert again["site-2"].status == "not_modified" and not again["site-2"].failed
        assert server.hits(broken) == 1

        outcomes = []
        for _ in range(4):
            clock.now += timedelta(hours=2)
            outcomes.append({o.source_id: o for o in crawl.run_once()}["site-2"])
        crawl.poller.fetcher.close()
    assert server.hits(broken) == 3  # three attempts, then never again
    assert [o.page_failures for o in outcomes] == [1, 1, 0, 0]
    (message,) = [m for o in outcomes for m in o.gave_up]
    assert message.startswith(f"page_given_up: site-2: {broken_url}: 3 attempts failed")
    (kept,) = crawl_state.pending("site-2")
    assert kept.gave_up_at is not None and "HTTP 500" in kept.last_error


def test_crawl_once_counts_failed_pages_and_exits_non_zero(tmp_path, capsys):
    with FixtureServer() as server:
        serve(server)
        server.route("/a/s0/3.html", status=503, body="busy")
        (tmp_path / "sources.yaml").write_text(sources_yaml(server), encoding="utf-8")
        args = ["--data-dir", str(tmp_path / "data"), "crawl", "--once", "--no-scrapy",
                "--host-delay", "0", "--workers", "3", "--sources", str(tmp_path / "sources.yaml")]
        assert main(args) == 1
        out = capsys.readouterr().out
        assert f"site-0: ok: {ITEMS - 1} new, 1 article pages failed (tried again next round)" in out
        assert out.strip().endswith(f"{SOURCES} sources polled, {SOURCES * ITEMS - 1} articles "
                                    "published, 0 sources failed, 1 article pages failed (kept "
                                    "for a retry), 0 given up")
        assert main(["--data-dir", str(tmp_path / "data"), "sources", "list", "--sources",
                     str(tmp_path / "sources.yaml")]) == 0
        assert "article pages: 1 waiting for a retry, 0 given up" in capsys.readouterr().out
        server.route("/a/s0/3.html", page(0, 3), headers={"Content-Type": "text/html"})
        # the retry waits page_retry_s (120 s by default): nothing due yet, nothing failed
        assert main(args) == 0


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_workers_below_one_are_refused_naming_the_setting(tmp_path, capsys, bad):
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    assert main(["crawl", "--once", "--workers", bad, "--sources",
                 str(tmp_path / "sources.yaml")]) == 2
    assert "crawl.workers" in capsys.readouterr().err


def test_a_site_that_is_down_keeps_its_pending_pages_attempts(bus_factory, crawl_state, tmp_path):
    bus = bus_factory()
    clock = Clock()
    with FixtureServer() as server:
        serve(server)
        server.route("/a/s1/2.html", status=503, body="busy")
        crawl = crawler(tmp_path, server, bus, crawl_state, clock,
                        RetryPolicy(max_attempts=2, first_wait_s=60))
        crawl.run_once()
        (kept,) = crawl_state.pending("site-1")
        assert kept.attempts == 1
        server.route("/feeds/s1.xml", status=503, body="down for maintenance")
        for _ in range(3):  # the whole site is down: its feed fails first, the page is not tried
            clock.now += timedelta(hours=1)
            outcome = {o.source_id: o for o in crawl.run_once()}["site-1"]
            assert outcome.status == "unavailable" and not outcome.gave_up
        assert server.hits("/a/s1/2.html") == 1
        serve(server)  # back, page and all
        clock.now += timedelta(hours=1)
        back = {o.source_id: o for o in crawl.run_once()}["site-1"]
        crawl.poller.fetcher.close()
    assert back.published == 1 and not back.failed and not crawl_state.pending()
