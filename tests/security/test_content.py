"""Crawled content that is not what the page said (issue 16, item 10): a feed in GBK declared as
UTF-8, text still garbled after decoding, a page whose text the extractor cannot reach (100,000
nested tags). None of it is published as an article; it is reported against its source (a
warning, and when nothing of a round is publishable the source's health). Servers of ours on
127.0.0.1, sources marked internal."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawlers.base import FetchError
from crawlers.fetch import Fetcher
from crawlers.politeness import Politeness
from crawlers.poll import PollSource
from crawlers.service import CrawlService, SourceWatcher
from crawlers.sources import Source
from crawlers.spider import BusSpec, ScrapyRunner
from crawlers.state import StateStore, health
from crawlers.testing import FixtureServer
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus

TITLES = ["某县纪委监委通报三起违反中央八项规定精神问题", "县委巡察组进驻县交通运输局开展常规巡察"]
FEED = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>示范县纪委监委</title>'
        + "".join(f"<item><title>{t}</title><link>http://yuqing.test/{i}.html</link>"
                  f"<description>{t}。近日，县纪委监委对有关问题进行了通报，要求各级党组织引以为戒。"
                  "</description></item>" for i, t in enumerate(TITLES))
        + "</channel></rss>")
ARTICLE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
           "<h1>{title}</h1>{before}<div class='content'>"
           + "<p>据示范县纪委监委消息，近日对群众身边不正之风和腐败问题开展集中整治，查处问题线索多件。</p>" * 5
           + "</div>{after}</body></html>")


@pytest.fixture
def server():
    with FixtureServer() as s:
        yield s


@pytest.fixture
def fetcher():
    with Fetcher(politeness=Politeness(0)) as f:
        yield f


def source(url: str, type: str = "rss", **fields) -> Source:
    return Source(id="county", name="示范县", type=type, url=url, internal=True, robots=False,
                  rate_limit_per_minute=600, **fields)


def test_a_gbk_feed_declared_as_utf8_is_read_as_what_it_is(server, fetcher):
    server.route("/feed", FEED.replace("http://yuqing.test", server.origin).encode("gbk"),
                 headers={"Content-Type": "application/rss+xml"})
    result = PollSource(fetcher).run(source(server.url("/feed")))
    assert sorted(c.article.title for c in result.candidates) == sorted(TITLES)
    assert all("近日，县纪委监委" in c.article.content for c in result.candidates)
    assert any("declared as utf-8" in w and "encoding: gb18030" in w for w in result.warnings)


def test_text_that_stays_garbled_is_a_problem_of_the_source_not_an_article(server, fetcher,
                                                                           tmp_path):
    # the operator's override is wrong: the GBK feed is read as latin-1, which never fails
    server.route("/feed", FEED.replace("http://yuqing.test", server.origin).encode("gbk"),
                 headers={"Content-Type": "application/rss+xml"})
    wrong = source(server.url("/feed"), encoding="latin-1")
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(wrong)
    assert caught.value.reason == "parse" and "text_garbled" in caught.value.detail
    assert "mojibake: gb18030 text decoded as cp1252" in caught.value.detail

    # in the crawl service: nothing on the bus, and the source's health says so
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - id: county\n    name: 示范县\n    type: rss\n"
                    f"    url: {server.url('/feed')}\n    internal: true\n    robots: false\n"
                    "    encoding: latin-1\n", encoding="utf-8")
    bus, state = LocalBus(tmp_path / "bus.sqlite3"), StateStore(tmp_path / "state.sqlite3")
    service = CrawlService(SourceWatcher(path), bus, state, fetcher)
    (outcome,) = service.run_once()
    assert outcome.published == 0 and "text_garbled" in outcome.error
    row = state.state("county")
    assert row.last_status == "parse" and "mojibake" in row.last_error
    assert health(row, 3 * 86400, datetime.now(timezone.utc)) == "failing_hard"
    assert sum(bus.end_offsets(RAW).values()) == 0
    bus.close()
    state.close()


def test_a_mixed_round_publishes_the_good_articles_and_warns_about_the_rest(server, fetcher):
    good = ARTICLE.format(title=TITLES[0], before="", after="")
    bad = ARTICLE.format(title=TITLES[1], before="", after="").encode("gbk")
    server.route("/list.html", f"<ul><li><a href='/good.html'>{TITLES[0]}</a></li>"
                 f"<li><a href='/bad.html'>{TITLES[1]}</a></li></ul>", headers={"Content-Type": "text/html"})
    server.route("/good.html", good, headers={"Content-Type": "text/html; charset=utf-8"})
    server.route("/bad.html", bad, headers={"Content-Type": "text/html; charset=iso-8859-1"})
    html = source(server.url("/list.html"), type="html", extraction={"items": "li"})
    result = PollSource(fetcher).run(html)
    assert [c.article.title for c in result.candidates] == [TITLES[0]]
    assert any(w.startswith("text_garbled: county:") and "bad.html" in w for w in result.warnings)


DEEP = 100_000


def deep_page() -> str:
    return ARTICLE.format(title=TITLES[0], before="<div>" * DEEP, after="</div>" * DEEP)


def test_a_page_whose_text_cannot_be_reached_is_not_published_with_empty_text(server, fetcher):
    server.route("/list.html", f"<ul><li><a href='/deep.html'>{TITLES[0]}</a></li></ul>",
                 headers={"Content-Type": "text/html"})
    server.route("/deep.html", deep_page(), headers={"Content-Type": "text/html; charset=utf-8"})
    html = source(server.url("/list.html"), type="html", extraction={"items": "li"})
    with pytest.raises(FetchError) as caught:
        PollSource(fetcher).run(html)
    assert caught.value.reason == "parse" and "page_no_text" in caught.value.detail


def test_the_spider_does_not_publish_it_either(server, tmp_path):
    server.route("/list.html", f"<ul class='list'><li><a href='/deep.html'>{TITLES[0]}</a></li></ul>",
                 headers={"Content-Type": "text/html"})
    server.route("/deep.html", deep_page(), headers={"Content-Type": "text/html; charset=utf-8"})
    runner = ScrapyRunner(BusSpec.of(LocalBus(tmp_path / "bus.sqlite3")), tmp_path / "state.sqlite3")
    html = source(server.url("/list.html"), type="html", extraction={"items": "ul.list li"})
    with pytest.raises(FetchError) as caught:
        runner.run(html, datetime.now(timezone.utc))
    assert caught.value.reason == "parse" and "page_no_text" in caught.value.detail
    bus = LocalBus(tmp_path / "bus.sqlite3")
    assert sum(bus.end_offsets(RAW).values()) == 0
    bus.close()
