"""The Scrapy path (html sources) as a rebinding DNS and an internal site's links would meet it
(issue 16, items 5 and 7). Run as the crawl service runs it: a spider subprocess per round,
publishing to the embedded bus. Loopback only: the module runs in a network namespace, where
FakeDNS answers for rebind.test (conftest.py)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request

from crawlers.base import UnsafeURLError
from crawlers.sources import Source
from crawlers.spider import BusSpec, SafetyMiddleware, ScrapyRunner
from crawlers.testing import FixtureServer
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus

pytestmark = pytest.mark.loopback_only

NOW = datetime(2026, 3, 5, 4, 0, tzinfo=timezone.utc)
ARTICLE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
           "<h1 class='title'>{title}</h1><div class='TRS_Editor'>"
           + "<p>据示范县纪委监委消息，近日对群众身边不正之风和腐败问题开展集中整治，查处问题线索多件。</p>" * 6
           + "</div></body></html>")


def list_page(*links: str) -> str:
    items = "".join(f"<li><a href='{href}'>示范县纪委监委通报第{i}起典型问题的有关情况</a></li>"
                    for i, href in enumerate(links, 1))
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><ul class='list'>{items}</ul></body></html>"


@pytest.fixture
def server():
    with FixtureServer() as s:
        yield s


def published(bus_path) -> int:
    bus = LocalBus(bus_path)
    try:
        return sum(bus.end_offsets(RAW).values())
    finally:
        bus.close()


def runner(tmp_path) -> ScrapyRunner:
    return ScrapyRunner(BusSpec.of(LocalBus(tmp_path / "bus.sqlite3")), tmp_path / "state.sqlite3")


def test_a_name_rebound_to_loopback_gets_no_connection(server, fake_dns, tmp_path):
    # the middleware's check sees rebind.test as public; Twisted, resolving again to connect,
    # gets loopback: refused by the resolver it connects with, so not a byte reaches the server
    dns = fake_dns({"rebind.test": ["1.2.4.8", "127.0.0.1"]})
    port = server.url("").rsplit(":", 1)[1]
    server.route("/list.html", list_page("/a1.html"), headers={"Content-Type": "text/html"})
    server.route("/a1.html", ARTICLE.format(title="内部页面不应发布"), headers={"Content-Type": "text/html"})
    source = Source(id="rebind", name="r", type="html", url=f"http://rebind.test:{port}/list.html",
                    robots=False, rate_limit_per_minute=600)
    with pytest.raises(UnsafeURLError) as caught:
        runner(tmp_path).run(source, NOW)
    assert caught.value.reason == "unsafe_address" and "127.0.0.1" in caught.value.detail
    assert server.hits("/list.html") == 0 and server.hits("/a1.html") == 0
    assert published(tmp_path / "bus.sqlite3") == 0
    assert dns.queries.count("rebind.test") >= 2  # both lookups really went to our DNS


def test_internal_reaches_private_addresses_only_at_its_own_hosts(server, tmp_path):
    # the internal list page (127.0.0.1) links to a page on another internal host: not followed
    port = server.url("").rsplit(":", 1)[1]
    server.route("/list.html", list_page("/own.html", f"http://localhost:{port}/other.html"),
                 headers={"Content-Type": "text/html"})
    server.route("/own.html", ARTICLE.format(title="本站文章可以发布"), headers={"Content-Type": "text/html"})
    server.route("/other.html", ARTICLE.format(title="他站内部页面不应发布"),
                 headers={"Content-Type": "text/html"})
    source = Source(id="intranet", name="i", type="html", url=server.url("/list.html"), internal=True,
                    robots=False, rate_limit_per_minute=600,
                    extraction={"items": "ul.list li", "title": "h1.title", "body": "div.TRS_Editor"})
    result = runner(tmp_path).run(source, NOW)
    assert result.published == 1 and server.hits("/own.html") == 1
    assert server.hits("/other.html") == 0
    assert any("unsafe_address" in w and "other.html" in w for w in result.warnings)


def test_a_response_from_a_private_address_is_refused_before_it_is_read():
    # the last check, on the address the response really came from (response.ip_address)
    source = Source(id="portal", name="p", type="html", url="http://news.example.cn/list.html")
    crawler = SimpleNamespace(spider=SimpleNamespace(source=source))
    middleware = SafetyMiddleware(crawler)
    request = Request("http://news.example.cn/a.html")
    inside = HtmlResponse("http://news.example.cn/a.html", body=b"<html></html>", request=request,
                          ip_address=ipaddress.ip_address("10.0.0.7"))
    with pytest.raises(IgnoreRequest) as caught:
        middleware.process_response(request, inside)
    assert caught.value.reason == "unsafe_address"
    outside = HtmlResponse("http://news.example.cn/a.html", body=b"<html></html>", request=request,
                           ip_address=ipaddress.ip_address("1.2.4.8"))
    assert middleware.process_response(request, outside) is outside
