"""The Scrapy spider for html sources, run as the service runs it (a subprocess per round)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.base import BlockedError, FetchError, UnsafeURLError
from crawlers.poll import RetryPolicy
from crawlers.snapshots import SnapshotStore
from crawlers.sources import Source
from crawlers.state import StateStore
from crawlers.spider import BusSpec, ScrapyRunner, scrapy_settings
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus
from pipeline.records import Article, decode
from pipeline.testing import drain, settle

NOW = datetime(2026, 3, 5, 4, 0, tzinfo=timezone.utc)
SELECTORS = {"items": "ul.list li", "title": "h1.title", "body": "div.TRS_Editor",
             "date": "div.info"}


def local_runner(tmp_path) -> ScrapyRunner:
    """For tests where the bus does not matter (nothing is published)."""
    return ScrapyRunner(BusSpec.of(LocalBus(tmp_path / "bus.sqlite3")), tmp_path / "state.sqlite3")


def test_list_pages_to_articles_on_the_bus_once(bus_factory, fixture_server, make_source, tmp_path):
    bus = bus_factory()
    runner = ScrapyRunner(BusSpec.of(bus), tmp_path / "state.sqlite3", tmp_path / "snapshots")
    source = make_source("/sites/list.html", type="html", id="county-list", extraction=SELECTORS)
    first = runner.run(source, NOW)
    assert first.published == 4 and first.warnings == []
    # evidence: every page read (2 list pages, 4 articles) kept and logged, as the pollers do
    assert SnapshotStore(tmp_path / "snapshots").usage().files == 6
    state = StateStore(tmp_path / "state.sqlite3")
    (when, digest), = state.snapshots_of(fixture_server.url("/sites/t20260305_1.html"))
    assert SnapshotStore(tmp_path / "snapshots").get(digest).startswith(b"<!DOCTYPE html>")
    state.close()
    consumer = bus.consumer(RAW, "test-spider")
    got = [decode(m.value, m.where, expect=Article) for m in drain(consumer, 4)]
    assert sorted(a.title for a in got) == sorted([
        "示范县某局原局长接受纪律审查和监察调查", "示范县开展群众身边不正之风和腐败问题集中整治回头看",
        "示范县召开2026年党风廉政建设工作会议", "示范县纪委监委举办新任纪检监察干部培训班"])
    assert {a.source_id for a in got} == {"county-list"}
    consumer.commit()
    assert runner.run(source, NOW).published == 0  # seen: the state store survives the process
    assert settle(consumer) == []
    consumer.close()


def test_pagination_is_bounded_and_automatic_extraction_works(bus_factory, fixture_server,
                                                              make_source, tmp_path):
    runner = ScrapyRunner(BusSpec.of(bus_factory()), tmp_path / "state.sqlite3")
    source = make_source("/sites/list.html", type="html", max_pages=1)  # no selectors at all
    assert runner.run(source, NOW).published == 2


def test_an_anti_bot_list_page_is_reported_as_blocked(fixture_server, make_source,
                                                      tmp_path):
    fixture_server.route("/jsl/", status=521,
                         body=(fixture_server.root / "sites" / "challenge.html").read_bytes())
    runner = local_runner(tmp_path)
    with pytest.raises(BlockedError) as caught:
        runner.run(make_source("/jsl/", type="html"), NOW)
    assert caught.value.reason == "blocked"


def test_a_private_address_is_refused_unless_the_source_is_internal(fixture_server,
                                                                    tmp_path):
    runner = local_runner(tmp_path)
    public = Source(id="public", name="p", type="html", url=fixture_server.url("/sites/list.html"))
    with pytest.raises(UnsafeURLError) as caught:
        runner.run(public, NOW)
    assert caught.value.reason == "unsafe_address"
    assert fixture_server.hits("/sites/list.html") == 0


def test_a_dead_list_page_fails_the_round_with_its_reason(fixture_server, make_source,
                                                          tmp_path):
    runner = local_runner(tmp_path)
    with pytest.raises(FetchError) as caught:
        runner.run(make_source("/no/such/list.html", type="html"), NOW)
    assert caught.value.reason == "http_error" and "HTTP 404" in caught.value.detail


def test_a_spider_that_crashes_is_a_failure_of_its_source_only(fixture_server, make_source, tmp_path):
    # a bus the subprocess cannot open: the round fails with the reason, nothing else happens
    runner = ScrapyRunner(BusSpec("sqlite:////proc/forbidden/bus.sqlite3"), tmp_path / "s.sqlite3")
    with pytest.raises(FetchError) as caught:
        runner.run(make_source("/sites/list.html", type="html"), NOW)
    assert caught.value.reason == "parse" and "spider exited with" in caught.value.detail


def test_scrapy_settings_keep_the_limits_on():
    source = Source(id="s", name="s", type="html", url="https://www.example.gov.cn/",
                    rate_limit_per_minute=12, max_bytes=2_000_000, robots=False)
    settings = scrapy_settings(source)
    assert settings["AUTOTHROTTLE_ENABLED"] and settings["RETRY_ENABLED"]
    assert (settings["DOWNLOAD_DELAY"], settings["DOWNLOAD_MAXSIZE"], settings["ROBOTSTXT_OBEY"]) == (
        5.0, 2_000_000, False)
    unset = source.model_copy(update={"rate_limit_per_minute": None})
    assert scrapy_settings(unset)["DOWNLOAD_DELAY"] == 2.0              # the default 30 a minute
    assert scrapy_settings(unset, 120)["DOWNLOAD_DELAY"] == 0.5         # crawl.rate_limit_per_minute


def test_an_article_page_that_fails_is_counted_kept_and_retried_once_off_the_list(
        bus_factory, fixture_server, make_source, tmp_path):
    runner = ScrapyRunner(BusSpec.of(bus_factory()), tmp_path / "state.sqlite3",
                          retry=RetryPolicy(max_attempts=3, first_wait_s=60))
    source = make_source("/sites/list.html", type="html", id="county-list", extraction=SELECTORS,
                         max_pages=1)
    failing = "/sites/t20260305_1.html"
    fixture_server.route(failing, "busy", status=503, headers={"Content-Type": "text/plain"})
    first = runner.run(source, NOW)
    assert (first.published, first.page_failures) == (1, 1)
    assert any(w.startswith(f"page_failed: county-list: {fixture_server.url(failing)}") for w in first.warnings)
    state = StateStore(tmp_path / "state.sqlite3")
    assert [p.entry_id for p in state.pending("county-list")] == [fixture_server.url(failing)]
    state.close()

    # the site is back, and the list has moved on: the page is no longer on its first page
    del fixture_server.routes[failing]
    fixture_server.route("/sites/list.html", "<html><body><ul class='list'></ul></body></html>",
                         headers={"Content-Type": "text/html; charset=utf-8"})
    assert runner.run(source, NOW + timedelta(seconds=30)).published == 0    # its wait is not over
    later = runner.run(source, NOW + timedelta(minutes=2))
    assert (later.published, later.page_failures) == (1, 0)
    state = StateStore(tmp_path / "state.sqlite3")
    assert state.pending("county-list") == []
    state.close()


def test_a_page_that_keeps_failing_is_given_up_and_said_so(bus_factory, fixture_server, make_source,
                                                           tmp_path):
    runner = ScrapyRunner(BusSpec.of(bus_factory()), tmp_path / "state.sqlite3",
                          retry=RetryPolicy(max_attempts=2, first_wait_s=60))
    source = make_source("/sites/list.html", type="html", id="county-list", extraction=SELECTORS,
                         max_pages=1)
    fixture_server.route("/sites/t20260305_1.html", "busy", status=503, headers={"Content-Type": "text/plain"})
    assert runner.run(source, NOW).gave_up == []
    again = runner.run(source, NOW + timedelta(minutes=2))
    (given_up,) = again.gave_up
    assert given_up.startswith("page_given_up: county-list:") and "2 attempts" in given_up
    assert runner.run(source, NOW + timedelta(hours=1)).gave_up == []   # said once, not every round
