"""``type: rsshub``: routes validated by their shape, read through the instance set once per file,
and RSSHub's error answers reported as the source's health, never as an empty round."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawlers.base import FetchError
from crawlers.poll import PollSource
from crawlers.rsshub import check_route, feed_url
from crawlers.service import CrawlService, SourceWatcher
from crawlers.sources import load_sources
from crawlers.state import health
from pipeline.errors import ConfigError
from pipeline.records import SHANGHAI
from yuqing.cli.main import main

FIXTURES = Path(__file__).parent / "fixtures" / "rsshub"
NOW = datetime(2024, 3, 8, 4, 0, tzinfo=timezone.utc)
ROUTE = "/weibo/user/1195230310"


@pytest.mark.parametrize("route", [
    "/weibo/user/1195230310", "/weibo/keyword/清河县", "/zhihu/question/59895982",
    "/bilibili/user/video/2267573", "/people/liuyan/539/1", "/douyin/user/MS4wLjABAAAA",
    "/wechat/mp/homepage/MzA3MDM3NjE5NQ==/16", "/some/route/we/do/not/know?limit=10",
])
def test_routes_of_the_right_shape_pass(route):
    assert check_route(route) == route


@pytest.mark.parametrize("route, message", [
    ("https://rsshub.app/weibo/user/1195230310", "is a URL; write only the route"),
    ("weibo/user/1195230310", "starts with '/'"),
    ("/weibo", "is not a route"),
    ("/weibo//user", "is not a route"),
    ("/weibo/user/清河发布", "/weibo/user/…: a 微博 account's posts"),
    ("/zhihu/question/abc", "e.g. /zhihu/question/59895982"),
    ("/people/liuyan/jiangxi", "人民网领导留言板"),
    ("/bilibili/user/video/2267573?limit", "name=value pairs"),
])
def test_routes_of_the_wrong_shape_say_what_to_write(route, message):
    with pytest.raises(ValueError) as info:
        check_route(route)
    assert message in str(info.value)


def test_the_feed_url_joins_instance_route_and_access_key():
    assert feed_url("http://127.0.0.1:1200/", ROUTE) == "http://127.0.0.1:1200/weibo/user/1195230310"
    assert feed_url("http://hub.lan", "/weibo/keyword/清河县?limit=5", "s3cr&t") == \
        "http://hub.lan/weibo/keyword/%E6%B8%85%E6%B2%B3%E5%8E%BF?limit=5&key=s3cr%26t"


def sources_file(tmp_path: Path, instance: str, *routes: str) -> Path:
    entries = "".join(f"""
  - id: hub-{i}
    name: 微博 {i}
    type: rsshub
    route: {route}
    rate_limit_per_minute: 600""" for i, route in enumerate(routes))
    path = tmp_path / "sources.yaml"
    path.write_text(f"rsshub:\n  url: {instance}\n  internal: true\nsources:{entries}\n", encoding="utf-8")
    return path


def test_sources_get_the_instance_url_and_its_internal_flag(tmp_path):
    loaded = load_sources(sources_file(tmp_path, "http://127.0.0.1:1200", ROUTE))
    source, = loaded.sources
    assert source.url == "http://127.0.0.1:1200" + ROUTE and source.internal and source.route == ROUTE


def test_validate_names_the_place_of_a_bad_route_and_of_a_missing_instance(tmp_path, capsys):
    bad = sources_file(tmp_path, "http://127.0.0.1:1200", ROUTE, "/weibo/user/qinghe")
    assert main(["sources", "validate", str(bad)]) == 2
    assert f"{bad}:13:12: sources[1].route: '/weibo/user/qinghe' does not have the shape" in \
        capsys.readouterr().err
    bare = tmp_path / "bare.yaml"
    bare.write_text(f"sources:\n  - id: wb\n    name: 微博\n    type: rsshub\n    route: {ROUTE}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bare.yaml:5:12: sources\[0\].route: type rsshub needs the "
                                          r"RSSHub instance; add 'rsshub: \{url: "):
        load_sources(bare)
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text("sources:\n  - id: a\n    name: a\n    type: rss\n    url: http://a.example/\n"
                     f"    route: {ROUTE}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'route' is for type rsshub"):
        load_sources(mixed)


def test_validate_says_which_instance_the_routes_go_through(tmp_path, capsys):
    good = sources_file(tmp_path, "http://127.0.0.1:1200", ROUTE, "/zhihu/question/59895982")
    assert main(["sources", "validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "2 sources (2 rsshub; 2 enabled)" in out and "2 RSSHub routes through http://127.0.0.1:1200" in out


@pytest.fixture
def hub_source(fixture_server, tmp_path):
    return load_sources(sources_file(tmp_path, fixture_server.url(""), ROUTE)).sources[0]


def test_posts_come_through_the_instance_as_articles(fixture_server, fetcher, hub_source):
    fixture_server.route(ROUTE, (FIXTURES / "weibo_user.xml").read_bytes(),
                         headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    result = PollSource(fetcher).run(hub_source, NOW)
    first, second = (c.article for c in result.candidates)
    assert first.url == "https://weibo.com/1195230310/Nabc123"
    assert first.published.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == "2024-03-08 10:20"
    assert first.content.startswith("【清河县一学校食堂被指克扣学生餐费？")
    assert first.spread == {"reposts": 12, "comments": 30, "likes": 88}
    assert second.spread == {} and first.source_id == "hub-0"


@pytest.mark.parametrize("status, reason, words, word", [
    (404, "http_error", "RSSHub has no route /weibo/user/1195230310 (HTTP 404)", "failing_hard"),
    (403, "http_error", "wants an access key (set rsshub.access_key)", "failing_hard"),
    (503, "unavailable", "could not read /weibo/user/1195230310 from the platform (HTTP 503)",
     "failing_soft"),
])
def test_rsshub_errors_become_the_sources_health_with_what_rsshub_meant(
        fixture_server, fetcher, crawl_state, tmp_path, bus_factory, status, reason, words, word):
    fixture_server.route(ROUTE, (FIXTURES / "error.html").read_bytes(), status=status,
                         headers={"Content-Type": "text/html; charset=utf-8"})
    path = sources_file(tmp_path, fixture_server.url(""), ROUTE)
    crawl = CrawlService(SourceWatcher(path), bus_factory(), crawl_state, fetcher,
                         clock=lambda: NOW)
    outcome, = crawl.run_once()
    assert outcome.status == reason and words in outcome.error
    state = crawl_state.state("hub-0")
    assert words in state.last_error
    assert health(state, 86400, NOW) == word


def test_a_feed_without_items_is_reported_not_taken_as_no_news(fixture_server, fetcher, hub_source):
    fixture_server.route(ROUTE, (FIXTURES / "empty.xml").read_bytes(),
                         headers={"Content-Type": "application/rss+xml"})
    with pytest.raises(FetchError) as info:
        PollSource(fetcher).run(hub_source, NOW)
    assert info.value.reason == "empty" and "RSSHub gave a feed with no items for " + ROUTE in str(info.value)


def test_a_page_instead_of_a_feed_asks_whether_the_instance_url_is_right(fixture_server, fetcher,
                                                                         hub_source):
    fixture_server.route(ROUTE, "<html><body><h1>Welcome to nginx!</h1></body></html>",
                         headers={"Content-Type": "text/html"})
    with pytest.raises(FetchError) as info:
        PollSource(fetcher).run(hub_source, NOW)
    assert info.value.reason == "parse" and "is rsshub.url the instance's address?" in str(info.value)


def test_an_instance_that_does_not_answer_is_named(fetcher, tmp_path):
    source = load_sources(sources_file(tmp_path, "http://127.0.0.1:9", ROUTE)).sources[0]
    with pytest.raises(FetchError) as info:
        PollSource(fetcher).run(source, NOW)
    assert "the RSSHub instance at 127.0.0.1:9 does not answer" in str(info.value)
