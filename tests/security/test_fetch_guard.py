"""The httpx fetcher as an attacker's server and DNS would meet it: rebinding, IPv6 forms of private
addresses, redirects out of an internal site, control characters, gzip bombs (issue 16, items
5, 7, 8, 9). Loopback only: the module runs in a network namespace (conftest.py)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from crawlers.base import FetchError, UnsafeURLError
from crawlers.fetch import Fetcher
from crawlers.feeds import parse_sitemap
from crawlers.politeness import Politeness
from crawlers.poll import PollSource
from crawlers.safety import is_public
from crawlers.sources import Source
from crawlers.testing import FixtureServer

pytestmark = pytest.mark.loopback_only

FEED = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b'<item><title>a</title><link>http://yuqing.test/1</link></item></channel></rss>')


@pytest.fixture
def server():
    with FixtureServer() as s:
        s.route("/feed", FEED, headers={"Content-Type": "application/rss+xml"})
        yield s


@pytest.fixture
def fetcher():
    with Fetcher(politeness=Politeness(host_delay_s=0.0)) as f:
        yield f


def source(url: str, **fields) -> Source:
    fields.setdefault("robots", False)
    return Source(id="probe", name="probe", type="rss", url=url, rate_limit_per_minute=600, **fields)


def refused(call) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


def test_a_name_rebound_to_loopback_is_refused_before_the_request_is_written(server, fetcher,
                                                                             fake_dns):
    # the check resolves rebind.test to a public address; the connection, resolving again, gets
    # loopback: refused on the connected socket, so the internal server never sees a request
    fake_dns({"rebind.test": ["1.2.4.8", "127.0.0.1"]})
    port = server.url("").rsplit(":", 1)[1]
    url = f"http://rebind.test:{port}/feed"
    error = refused(lambda: fetcher.fetch(source(url), url))
    assert isinstance(error, UnsafeURLError) and error.reason == "unsafe_address"
    assert "127.0.0.1" in error.detail
    assert server.hits("/feed") == 0


@pytest.mark.parametrize("address", [
    "::127.0.0.1",            # IPv4-compatible
    "::ffff:127.0.0.1",       # IPv4-mapped
    "64:ff9b::7f00:1",        # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",     # NAT64 of 169.254.169.254
    "2002:7f00:1::1",         # 6to4 of 127.0.0.1
    "2002:a00:1::1",          # 6to4 of 10.0.0.1
    "fec0::1",                # site-local
    "64:ff9b:1::a00:1",       # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fe80::1%lo",             # link-local with a scope
])
def test_ipv6_forms_of_private_addresses_are_not_public(fetcher, address):
    assert not is_public(address)
    probe = source("http://intranet.example.cn/feed")
    with Fetcher(resolver=lambda host, port: [address], politeness=Politeness(0)) as guarded:
        error = refused(lambda: guarded.fetch(probe, probe.url))
    assert error.reason == "unsafe_address"


@pytest.mark.parametrize("address", ["1.2.4.8", "2400:3200::1", "64:ff9b::102:408",
                                     "2002:102:408::1", "::ffff:1.2.4.8"])
def test_public_addresses_stay_public_through_the_same_forms(address):
    assert is_public(address)


def test_ipv4_mapped_literal_of_loopback_is_refused_without_a_request(server, fetcher):
    port = server.url("").rsplit(":", 1)[1]
    url = f"http://[::ffff:127.0.0.1]:{port}/feed"
    assert refused(lambda: fetcher.fetch(source(url), url)).reason == "unsafe_address"
    assert server.hits("/feed") == 0


def test_internal_reaches_private_addresses_only_at_its_own_hosts(server, fetcher):
    # an internal site (127.0.0.1) redirects to another host of the internal network ("localhost"
    # stands in for the cloud metadata service): the redirect is judged as for a public source
    port = server.url("").rsplit(":", 1)[1]
    server.route("/meta", b"secret-token", headers={"Content-Type": "text/plain"})
    server.redirect("/to-meta", f"http://localhost:{port}/meta")
    server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    internal = source(server.url("/feed"), internal=True)
    assert fetcher.fetch(internal, internal.url).status == 200  # its own host: allowed
    error = refused(lambda: fetcher.fetch(internal, server.url("/to-meta")))
    assert error.reason == "unsafe_address" and "own hosts" in error.detail
    assert server.hits("/meta") == 0
    assert refused(lambda: fetcher.fetch(internal, server.url("/to-metadata"))).reason == \
        "unsafe_address"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a\r\nX-Injected: 1", "http://127.0.0.1:9/a b",
                                 "http://127.0.0.1:9/\x00", "http://127.0.0.1:port/"])
def test_a_url_with_control_characters_is_a_fetch_error_not_a_crash(fetcher, url):
    error = refused(lambda: fetcher.fetch(source("http://127.0.0.1:9/", internal=True), url))
    assert error.reason == "bad_url"


@pytest.mark.parametrize("encoding,pack", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
])
def test_a_compression_bomb_is_refused_before_it_is_inflated_in_memory(server, fetcher, encoding,
                                                                      pack):
    # 100 MB of zeros in about 100 KB; max_bytes 1 MB: at most a few max_bytes may ever be held
    server.route("/bomb", pack(b"\0" * 100_000_000), headers={"Content-Encoding": encoding})
    bomb = source(server.url("/bomb"), internal=True, max_bytes=1_000_000)
    tracemalloc.start()
    try:
        error = refused(lambda: fetcher.fetch(bomb, bomb.url))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "too_large"
    assert peak < 6_000_000, f"peak {peak} bytes while refusing a bomb with max_bytes 1 MB"


@pytest.mark.parametrize("encoding,pack", [("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_compressed_pages_within_max_bytes_are_read_whole(server, fetcher, encoding, pack):
    body = "<html><body>" + "纪委监委通报" * 20_000 + "</body></html>"
    server.route("/page", pack(body.encode("utf-8")), headers={"Content-Encoding": encoding})
    page = source(server.url("/page"), internal=True, max_bytes=1_000_000)
    assert fetcher.fetch(page, page.url).body.decode("utf-8") == body


def test_a_gzipped_sitemap_is_inflated_no_further_than_max_bytes(server, fetcher):
    entry = b"<url><loc>http://yuqing.test/a.html</loc></url>"
    xml = b'<?xml version="1.0"?><urlset>' + entry * 60_000 + b"</urlset>"  # about 3 MB
    assert parse_sitemap(gzip.compress(xml), "http://a.cn/s.xml.gz", max_bytes=1_000_000).problem
    assert not parse_sitemap(gzip.compress(xml), "http://a.cn/s.xml.gz", max_bytes=5_000_000).problem
    server.route("/sitemap.xml.gz", gzip.compress(xml))
    sitemap = Source(id="map", name="m", type="sitemap", url=server.url("/sitemap.xml.gz"),
                     internal=True, robots=False, max_bytes=1_000_000, rate_limit_per_minute=600)
    error = refused(lambda: PollSource(fetcher).run(sitemap))
    assert error.reason == "parse" and "max_bytes 1000000" in error.detail


def test_this_module_runs_where_only_loopback_exists():
    import os
    import socket

    assert os.environ.get("YUQING_LOOPBACK_ONLY") == "1"
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
    with pytest.raises(OSError):  # no route anywhere but loopback
        socket.create_connection(("1.2.4.8", 80), timeout=2)
