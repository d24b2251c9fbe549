"""The fetcher against a local server: limits, conditional GET, errors, safety, robots, evidence."""

from __future__ import annotations

import gzip
import random
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from crawlers.base import BlockedError, FetchError, UnsafeURLError
from crawlers.fetch import Fetcher, looks_like_challenge
from crawlers.politeness import Politeness, backoff_delay, parse_retry_after
from crawlers.sources import Source


def reason_of(call) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


def test_a_page_is_fetched_and_kept_as_a_compressed_snapshot(fixture_server, fetcher, make_source,
                                                             tmp_path):
    source = make_source("/feeds/rss20.xml")
    got = fetcher.fetch(source, source.url)
    assert got.status == 200 and b"<rss" in got.body and got.content_type == "application/xml"
    assert fetcher.snapshots.get(got.snapshot) == got.body
    # a WARC record of its own, compressed, in the month's file, naming the URL it came from
    (pack,) = (tmp_path / "snapshots").glob("*.warc.gz")
    with gzip.open(pack) as warc:
        record = warc.read()
    assert record.startswith(b"WARC/1.1\r\nWARC-Type: resource\r\n")
    assert f"WARC-Target-URI: {source.url}".encode() in record and got.body in record
    assert got.content_hash == got.snapshot  # content-addressed: the same bytes, the same record
    assert fetcher.fetch(source, source.url).snapshot == got.snapshot
    assert fetcher.snapshots.usage().files == 1


def test_conditional_get_answers_304_with_no_body(fixture_server, fetcher, make_source):
    fixture_server.route("/feed", body="<rss/>", etag='"v1"',
                         last_modified="Thu, 05 Mar 2026 02:00:00 GMT")
    source = make_source("/feed")
    first = fetcher.fetch(source, source.url)
    again = fetcher.fetch(source, source.url, etag=first.etag, last_modified=first.last_modified)
    assert (first.status, again.status, again.not_modified, again.body) == (200, 304, True, b"")
    sent = fixture_server.requests[-1][1]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"].startswith("Thu, 05 Mar")


def test_429_and_503_carry_retry_after(fixture_server, fetcher, make_source):
    fixture_server.route("/busy", status=429, headers={"Retry-After": "120"})
    later = (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    fixture_server.route("/down", status=503, headers={"Retry-After": later})
    source = make_source("/busy")
    busy = reason_of(lambda: fetcher.fetch(source, fixture_server.url("/busy")))
    down = reason_of(lambda: fetcher.fetch(source, fixture_server.url("/down")))
    assert (busy.reason, busy.retry_after, busy.status) == ("rate_limited", 120.0, 429)
    assert down.reason == "unavailable" and 500 < down.retry_after <= 600
    assert str(busy).startswith(f"fixture: {fixture_server.url('/busy')}: rate_limited: HTTP 429")


def test_redirects_are_followed_and_bounded(fixture_server, fetcher, make_source):
    fixture_server.redirect("/old-feed", "/moved")
    fixture_server.redirect("/moved", fixture_server.url("/feeds/atom.xml"), status=301)
    source = make_source("/old-feed")
    got = fetcher.fetch(source, source.url)
    assert got.url == fixture_server.url("/feeds/atom.xml") and b"<feed" in got.body
    fixture_server.redirect("/loop", "/loop")
    assert reason_of(lambda: fetcher.fetch(source, fixture_server.url("/loop"))).reason == \
        "too_many_redirects"
    assert fixture_server.hits("/loop") == fetcher.max_redirects + 1


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1:9/x", "unsafe_address"),
    ("http://10.1.2.3/x", "unsafe_address"),
    ("http://169.254.169.254/latest/meta-data/", "unsafe_address"),
    ("http://[::1]/x", "unsafe_address"),
    ("http://[::ffff:192.168.1.1]/x", "unsafe_address"),
    ("file:///etc/passwd", "bad_scheme"),
    ("ftp://ftp.example.cn/a", "bad_scheme"),
])
def test_private_addresses_and_other_schemes_are_refused(fetcher, url, reason):
    source = Source(id="public", name="p", type="rss", url="https://www.example.gov.cn/rss")
    with pytest.raises(UnsafeURLError) as caught:
        fetcher.fetch(source, url)
    assert caught.value.reason == reason and "internal: true" in str(caught.value) or \
        reason == "bad_scheme"


def test_a_redirect_to_a_private_address_is_refused_for_a_public_source(fixture_server, tmp_path):
    # The first hop is a public site (a mock transport stands in for it); it redirects to the
    # local server, which a public source must not reach.
    target = fixture_server.url("/feeds/rss20.xml")

    def public_site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": target})

    def resolver(host: str, port: int) -> list[str]:
        return ["1.2.4.8"] if host == "news.example.cn" else ["127.0.0.1"]

    source = Source(id="portal", name="p", type="rss", url="http://news.example.cn/rss", robots=False)
    with Fetcher(transport=httpx.MockTransport(public_site), resolver=resolver,
                 politeness=Politeness(0)) as fetcher:
        error = reason_of(lambda: fetcher.fetch(source, source.url))
    assert error.reason == "unsafe_address" and error.url == target
    assert fixture_server.hits("/feeds/rss20.xml") == 0


def test_the_address_actually_connected_to_is_checked_too(fixture_server):
    # DNS said "public", the connection went to loopback (DNS rebinding): refused after connect.
    source = Source(id="rebind", name="r", type="rss", url=fixture_server.url("/feeds/rss20.xml"),
                    robots=False)
    with Fetcher(resolver=lambda host, port: ["1.2.4.8"], politeness=Politeness(0)) as fetcher:
        error = reason_of(lambda: fetcher.fetch(source, source.url))
    assert error.reason == "unsafe_address" and "127.0.0.1" in error.detail


def test_a_trickling_server_hits_the_total_deadline(fixture_server, fetcher, make_source):
    fixture_server.route("/slow", body=b"<rss>" + b" " * 200 + b"</rss>", trickle_s=0.05)
    source = make_source("/slow", timeout_s=1.0, deadline_s=1.0)
    started = time.monotonic()
    error = reason_of(lambda: fetcher.fetch(source, source.url))
    took = time.monotonic() - started
    assert error.reason == "deadline" and took < 2.5  # each read was fast; the whole was not


def test_a_server_trickling_its_headers_hits_the_deadline_too(fixture_server, fetcher, make_source):
    fixture_server.route("/slow-head", body=b"<rss/>", trickle_s=0.05, trickle_headers=True,
                         headers={"X-Padding": "x" * 200})
    source = make_source("/slow-head", timeout_s=1.0, deadline_s=1.0)
    started = time.monotonic()
    error = reason_of(lambda: fetcher.fetch(source, source.url))
    assert error.reason == "deadline" and time.monotonic() - started < 2.0


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_huge_page_is_cut_off_at_max_bytes(fixture_server, fetcher, make_source, declare_length):
    fixture_server.route("/huge", body=b"<html>" + b"x" * 3_000_000, declare_length=declare_length)
    source = make_source("/huge", max_bytes=1_000_000)
    error = reason_of(lambda: fetcher.fetch(source, source.url))
    assert error.reason == "too_large" and "max_bytes 1000000" in error.detail


def test_a_gzip_bomb_counts_its_expanded_size(fixture_server, fetcher, make_source):
    fixture_server.route("/bomb", body=gzip.compress(b"\0" * 20_000_000),
                         headers={"Content-Encoding": "gzip"})
    source = make_source("/bomb", max_bytes=1_000_000)
    assert reason_of(lambda: fetcher.fetch(source, source.url)).reason == "too_large"


def test_an_anti_bot_challenge_is_reported_as_blocked(fixture_server, fetcher, make_source):
    page = (fixture_server.root / "sites" / "challenge.html").read_bytes()
    fixture_server.route("/jsl", status=521, body=page)
    fixture_server.route("/jsl200", body=page)
    source = make_source("/jsl")
    for path in ("/jsl", "/jsl200"):
        with pytest.raises(BlockedError) as caught:
            fetcher.fetch(source, fixture_server.url(path))
        assert caught.value.reason == "blocked" and "does not solve" in caught.value.detail
    assert not looks_like_challenge(200, (fixture_server.root / "sites" / "gbk.html").read_bytes())


def test_robots_txt_is_honoured_unless_the_source_says_otherwise(fixture_server, fetcher, make_source):
    fixture_server.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    fixture_server.route("/private/feed.xml", body="<rss/>")
    polite = make_source("/private/feed.xml")
    error = reason_of(lambda: fetcher.fetch(polite, polite.url))
    assert error.reason == "robots" and "robots: false" in error.detail
    assert fetcher.fetch(make_source("/private/feed.xml", id="allowed", robots=False),
                         polite.url).status == 200
    fetcher.fetch(polite, fixture_server.url("/feeds/rss20.xml"))
    assert fixture_server.hits("/robots.txt") == 1  # cached per host


def test_robots_txt_is_checked_after_a_redirect_too(fixture_server, fetcher, make_source):
    fixture_server.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    fixture_server.redirect("/open/feed.xml", "/private/feed.xml")
    source = make_source("/open/feed.xml")
    error = reason_of(lambda: fetcher.fetch(source, source.url))
    assert error.reason == "robots" and error.url == fixture_server.url("/private/feed.xml")
    assert fixture_server.hits("/private/feed.xml") == 0


def test_a_missing_robots_txt_allows_everything(fixture_server, fetcher, make_source):
    source = make_source("/feeds/rss20.xml")
    assert fetcher.fetch(source, source.url).status == 200
    assert fixture_server.hits("/robots.txt") == 1


def test_a_refused_connection_is_a_soft_connect_error(make_source, fetcher):
    source = Source(id="gone", name="g", type="rss", url="http://127.0.0.1:9/rss", internal=True,
                    robots=False)
    assert reason_of(lambda: fetcher.fetch(source, source.url)).reason == "connect"


def test_politeness_spaces_requests_to_one_host_and_per_source():
    now = [0.0]
    slept = []
    gate = Politeness(host_delay_s=2.0, clock=lambda: now[0], sleep=slept.append)
    assert gate.wait("a.gov.cn", "s1", per_minute=600) == 0
    assert gate.wait("a.gov.cn", "s2", per_minute=600) == 2.0  # same host, other source
    assert gate.wait("b.gov.cn", "s3", per_minute=600) == 0    # other host: no wait
    assert gate.wait("c.gov.cn", "s4", per_minute=6) == 0
    assert gate.wait("d.gov.cn", "s4", per_minute=6) == 10.0   # the source's own rate: 6/min
    assert slept == [2.0, 10.0]


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    delays = [backoff_delay(n, 60.0, cap_s=3600.0, rng=rng) for n in range(1, 10)]
    assert 30 <= delays[0] <= 90 and 60 <= delays[1] <= 180 and 120 <= delays[2] <= 360
    assert all(d <= 1.5 * 3600 for d in delays) and delays[-1] >= 0.5 * 3600
    assert backoff_delay(0, 60.0) == 60.0


def test_retry_after_forms():
    now = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Thu, 05 Mar 2026 02:05:00 GMT", now) == 300.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None
