"""Article addresses (issue 16, item 6): only http(s) URLs become articles, a record on the bus with
another is dead-lettered, and the console renders a link only for http(s), whatever an index or
the alert database (an insider with access to it) holds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from alerting.accounts import add_user
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.service import AlertService
from alerting.store import open_store
from alerting.store.models import Alert, AlertArticle
from alerting.testing import scored
from crawlers.poll import PollSource
from crawlers.fetch import Fetcher
from crawlers.politeness import Politeness
from crawlers.sources import Source
from crawlers.testing import FixtureServer
from pipeline.bus import DEADLETTER, SCORED
from pipeline.bus.local import LocalBus
from pipeline.errors import RecordError
from pipeline.flow import StepCount, drain, index_step
from pipeline.index.sqlite import SqliteIndex
from pipeline.records import Article, decode, encode
from yuqing.web import ConsoleOptions, create_app

HOSTILE = ["javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
           "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)",
           "file:///etc/passwd", "//evil.example/x", "http:///no-host"]
START = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("url", HOSTILE)
def test_an_article_is_made_only_with_an_http_url(url):
    with pytest.raises(ValueError, match="only http"):
        Article.create(source_id="county", url=url, title="t", content="c")


@pytest.mark.parametrize("url", HOSTILE[:5])
def test_a_record_with_another_url_on_the_bus_is_dead_lettered_not_indexed(tmp_path, url):
    good = scored("某县纪委监委通报", at=START)
    bad = good.model_copy(update={"url": url, "canonical_url": url})
    with pytest.raises(RecordError, match="url"):
        decode(encode(bad), "articles.scored[0]@0")
    bus, index = LocalBus(tmp_path / "bus.sqlite3"), SqliteIndex(tmp_path / "index.sqlite3")
    bus.publish(SCORED, encode(bad))
    bus.publish(SCORED, encode(good))
    bus.flush()
    count = StepCount()
    drain(bus, SCORED, "index", index_step(bus, index, count), "index")
    assert (count.written, count.dead, index.count()) == (1, 1, 1)
    assert sum(bus.end_offsets(DEADLETTER).values()) == 1
    bus.close()
    index.close()


def test_a_feed_entry_whose_link_is_not_http_is_not_published():
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>恶意链接的条目标题</title><link>javascript:alert(1)</link>"
            "<description>正文内容足够长的一段文字。</description></item>"
            "<item><title>正常条目的标题文字</title><link>http://yuqing.test/ok.html</link>"
            "<description>正文内容足够长的一段文字。</description></item></channel></rss>")
    with FixtureServer() as server, Fetcher(politeness=Politeness(0)) as fetcher:
        server.route("/feed", feed.replace("http://yuqing.test", server.origin),
                     headers={"Content-Type": "application/rss+xml"})
        source = Source(id="feed", name="f", type="rss", url=server.url("/feed"), internal=True,
                        robots=False, rate_limit_per_minute=600)
        result = PollSource(fetcher).run(source)
    assert [c.article.title for c in result.candidates] == ["正常条目的标题文字"]
    assert any(w.startswith("link_refused: feed: javascript:") for w in result.warnings)


def test_the_console_links_only_to_http_urls_whatever_the_databases_hold(tmp_path):
    service = AlertService(open_store(f"sqlite:///{tmp_path / 'alerts.sqlite3'}"), AlertingConfig(),
                           clock=ManualClock(START), channels={})
    add_user(service.store, "zz", "leader", "", "correct horse 9", service.config.offices, START, "test")
    article = scored("实名举报副局长公车私用", at=START, level=3, story="s1", text="公车私用 举报")
    alert_id = service.ingest(article)
    hostile = "javascript:alert(document.cookie)"
    with service.store.session() as session:  # an insider with database access
        session.execute(update(Alert).values(url=hostile))
        session.execute(update(AlertArticle).values(url=hostile))
    index = SqliteIndex(tmp_path / "index.sqlite3")
    index.add(article.model_copy(update={"url": hostile}))  # an index written before the fix
    index.flush()
    index.close()
    app = create_app(service, ConsoleOptions(open_index=lambda: SqliteIndex(tmp_path / "index.sqlite3")))
    try:
        with TestClient(app) as client:
            client.post("/api/login", json={"name": "zz", "password": "correct horse 9"})
            pages = {path: client.get(path) for path in
                     (f"/alerts/{alert_id}", f"/stories/{alert_id}", "/search?q=公车私用")}
    finally:
        service.store.close()
    for path, page in pages.items():
        assert page.status_code == 200, path
        hrefs = re.findall(r'href="([^"]*)"', page.text)
        assert not [h for h in hrefs if "javascript" in h.lower()], (path, hrefs)
        assert 'href="#"' in page.text, path  # the article is still listed, without a live link
