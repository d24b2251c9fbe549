"""The pages: who gets which, nothing loaded from outside, search, story, trends, briefings and the
operators' sources page (validation before saving, test fetch of the demo web). SQLite only: the
store's behaviour on PostgreSQL is covered by test_api and test_auth."""

from __future__ import annotations

import re
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.store.models import AuditEntry
from alerting.testing import scored
from classifiers.testing import ScriptedScorer
from crawlers.state import StateStore
from pipeline.index.sqlite import SqliteIndex
from pipeline.testing import IN_CI
from yuqing.web import ConsoleOptions, create_app, views
from yuqing.web.console import ECHARTS, STATIC

PASSWORD = "correct horse 9"


@pytest.fixture
def site(tmp_path, sqlite_url, service_factory):
    """A console with alerts, an index of articles, briefings and the demo web's sources."""
    from crawlers.testing import FixtureServer
    from yuqing.demo.site import build_site, sources_yaml

    service = service_factory(sqlite_url)
    now = service.clock.now()
    index = SqliteIndex(tmp_path / "index.sqlite3")
    articles = [
        scored("中紀委通報：某副廳級官員落馬", at=now - timedelta(hours=3), level=2, story="s1",
               text="監察調查 违纪违法 截留", spread={"reposts": 120, "comments": 48, "likes": 300}),
        scored("转发：中纪委通报某副厅级官员落马", at=now - timedelta(hours=2), level=2, story="s1", source="news-b",
               text="监察调查 违纪违法 截留 转载", spread={"reposts": 8, "reads": 2_150}),
        scored("县城新开一家面包店", at=now - timedelta(hours=1), level=0, text="面包 好吃"),
        scored("实名举报副局长公车私用", at=now - timedelta(minutes=30), level=3, story="s2", text="公车私用 举报 违纪违法 截留"),
    ]
    for a in articles:
        index.add(a)
        if a.level:
            service.ingest(a)
    index.flush()
    index.refresh()
    index.close()
    briefings = tmp_path / "briefings"
    briefings.mkdir()
    (briefings / "daily-2026-11-26.html").write_text("<html><body>日报</body></html>", encoding="utf-8")
    (briefings / "daily-2026-11-26.pdf").write_bytes(b"%PDF-1.7 test")
    (tmp_path / "secret.pdf").write_bytes(b"%PDF secret")
    build_site(tmp_path / "web")
    server = FixtureServer(tmp_path / "web").start()
    sources = tmp_path / "sources.yaml"
    sources.write_text(sources_yaml(server.url("").rstrip("/")), encoding="utf-8")
    app = create_app(service, ConsoleOptions(
        sources=sources, crawl_state=tmp_path / "crawl_state.sqlite3", briefings=briefings,
        kibana_url="http://kibana.internal:5601", open_index=lambda: SqliteIndex(tmp_path / "index.sqlite3"),
        score=ScriptedScorer(lambda article: 2 if "截留" in article.content else 0).score))
    clients = []

    def client(name: str | None = None):
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        clients.append(c)
        if name:
            response = c.post("/api/login", json={"name": name, "password": PASSWORD})
            c.csrf = response.json()["csrf_token"]
        return c

    site = type("Site", (), {})()
    site.service, site.client, site.sources, site.tmp = service, client, sources, tmp_path
    site.alerts = {a.title: service.ingest(a) for a in articles if a.level}
    yield site
    for c in clients:
        c.__exit__(None, None, None)
    server.stop()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("name, allowed, refused", [
    ("xc", ["/queue", "/tasks", "/intake", "/search", "/trends", "/briefings"],
     ["/overview", "/sources", "/accountability"]),
    ("xf", ["/queue", "/tasks", "/intake"],
     ["/search", "/trends", "/briefings", "/overview", "/sources", "/accountability"]),
    ("zz", ["/overview", "/queue", "/tasks", "/intake", "/search", "/trends", "/briefings", "/accountability"],
     ["/sources"]),
    ("fx", ["/queue", "/search", "/trends", "/briefings"], ["/tasks", "/intake", "/sources", "/overview",
                                                             "/accountability"]),
    ("yw", ["/sources"], ["/queue", "/search", "/intake", "/overview", "/accountability"]),
])
def test_each_role_gets_its_pages_and_no_others(site, name, allowed, refused):
    client = site.client(name)
    for path in allowed:
        response = client.get(path)
        assert response.status_code == 200, (name, path, response.text[:300])
        assert 'lang="zh-CN"' in response.text
    for path in refused:
        assert client.get(path).status_code == 403, (name, path)
    nav = re.findall(r'<nav>(.*?)</nav>', client.get(allowed[0]).text, re.S)[0]
    assert all(f'href="{p}"' not in nav for p in refused)


RESOURCE = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)="([^"]*)"', re.I)


def test_no_page_loads_anything_from_outside_the_console(site):
    alert_id = site.alerts["实名举报副局长公车私用"]
    pages = {"zz": ["/overview", "/queue", "/tasks", "/search?q=纪委", f"/stories/{alert_id}", "/trends",
                    "/briefings", f"/alerts/{alert_id}"], "yw": ["/sources"], None: ["/login"]}
    for name, paths in pages.items():
        client = site.client(name)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            for url in RESOURCE.findall(response.text):
                assert url.startswith("/static/"), (path, url)
            assert "default-src 'self'" in response.headers["content-security-policy"]
    for own in STATIC.glob("*.*"):
        text = own.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), own  # the vendored ECharts is checked below


def test_echarts_is_served_by_the_console_itself(site):
    if not ECHARTS.exists():
        message = f"{ECHARTS} missing: run yuqing/web/fetch-assets (make install does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    response = site.client().get("/static/vendor/echarts.min.js")
    assert response.status_code == 200 and b"echarts" in response.content[:2000]


def test_another_offices_alert_is_a_404_page_and_its_form_changes_nothing(site):
    alert_id = site.alerts["实名举报副局长公车私用"]
    client = site.client("ag")
    assert client.get(f"/alerts/{alert_id}").status_code == 404
    assert client.get(f"/stories/{alert_id}").status_code == 404
    token = csrf_of(client.get("/queue").text)
    assert client.post(f"/alerts/{alert_id}/act/judge", data={"csrf": token, "note": "x"}).status_code == 404
    assert alert_id not in client.get("/queue").text


def test_a_refused_action_comes_back_as_a_message_on_the_page(site):
    alert_id = site.alerts["实名举报副局长公车私用"]
    client = site.client("xc")
    token = csrf_of(client.get(f"/alerts/{alert_id}").text)
    response = client.post(f"/alerts/{alert_id}/act/close", data={"csrf": token, "note": "x"})
    assert response.status_code == 303 and response.headers["location"] == f"/alerts/{alert_id}"
    page = client.get(f"/alerts/{alert_id}").text
    assert "办结未完成" in page and "新发现" in page
    assert "办结未完成" not in client.get(f"/alerts/{alert_id}").text  # shown once


def test_an_analyst_is_offered_no_action_form_or_task_on_an_alert(site):
    alert_id = site.alerts["实名举报副局长公车私用"]
    site.client("xc").post(f"/api/alerts/{alert_id}/warn", json={"offices": ["信访室"]})
    analyst = site.client("fx")
    page = analyst.get(f"/alerts/{alert_id}").text
    assert "data-action=" not in page and f"/alerts/{alert_id}/special" not in page
    assert "/intake/petition" not in page and "/complete" not in page
    detail = analyst.get(f"/api/alerts/{alert_id}").json()
    assert (detail["actions"], detail["my_tasks"], detail["may_record_petition"]) == ([], [], False)
    assert site.client("xc").get(f"/api/alerts/{alert_id}").json()["actions"]   # staff still are


def test_search_finds_simplified_and_traditional_with_filters(site):
    client = site.client("fx")
    found = client.get("/api/search", params={"q": "中纪委"}).json()
    assert found["total"] == 2  # 中紀委 in one title, 中纪委 in the other
    assert client.get("/api/search", params={"q": "中纪委", "source": "news-b"}).json()["total"] == 1
    assert client.get("/api/search", params={"level": "0"}).json()["total"] == 1
    high = client.get("/api/search", params={"min_score": "0.7"}).json()
    assert high["total"] == 3 and all(max(h["relevance"], h["sensitivity"]) >= 0.7 for h in high["hits"])
    assert client.get("/api/search", params={"since": "yesterday"}).status_code == 422
    page = client.get("/search", params={"q": "中纪委"}).text
    assert "共 <b>2</b> 条" in page and "http://kibana.internal:5601" in page
    hit = found["hits"][0]
    assert client.get(f"/stories/{hit['alert_id']}").status_code == 200  # search leads to the story


def test_the_story_view_has_articles_sources_and_spread(site):
    alert_id = site.alerts["中紀委通報：某副廳級官員落馬"]
    story = site.client("xc").get(f"/api/stories/{alert_id}").json()
    assert [a["source_id"] for a in story["articles"]] == ["weibo-huichang", "news-b"]
    assert story["articles"][0]["snippet"].startswith("監察調查")
    spread = story["spread"]  # a young story: 10-minute buckets over the hour between the two
    assert len(spread) == 7 and [p["new"] for p in spread] == [1, 0, 0, 0, 0, 0, 1] and spread[-1]["total"] == 2
    # the reach the pages showed, each article's and the story's (what the engagement rules weigh)
    assert story["reach"] == [{"counter": "reposts", "label": "转发", "count": 128},
                              {"counter": "comments", "label": "评论", "count": 48},
                              {"counter": "likes", "label": "点赞", "count": 300},
                              {"counter": "reads", "label": "阅读", "count": 2150}]
    assert [[r["count"] for r in a["reach"]] for a in story["articles"]] == [[120, 48, 300], [8, 2150]]
    page = site.client("xc").get(f"/stories/{alert_id}").text
    assert 'data-chart="spread"' in page and "转发：中纪委通报" in page
    assert "阅读 <b>2,150</b>" in page and "转发 120 · 评论 48 · 点赞 300" in page


def test_trends_count_by_level_and_find_rising_terms(site):
    trends = site.client("fx").get("/api/trends", params={"days": 1}).json()
    assert trends["step"] == "hour" and len(trends["buckets"]) == 24
    assert {k: v for k, v in trends["totals"].items()} == {"0": 1, "1": 0, "2": 2, "3": 1}
    rising = {r["term"]: r["count"] for r in trends["rising"]}
    assert rising.get("截留") == 2, rising  # two stories; the repost of one does not count again
    assert "违纪违法" not in rising            # the commission's own vocabulary is never a 苗头
    assert 'data-chart="volume"' in site.client("fx").get("/trends?days=7").text


def test_briefings_are_listed_viewed_and_downloaded_but_nothing_else(site):
    client = site.client("zz")
    rows = client.get("/api/briefings").json()
    assert [(r["name"], r["html"], r["pdf"]) for r in rows] == [
        ("daily-2026-11-26", "daily-2026-11-26.html", "daily-2026-11-26.pdf")]
    pdf = client.get("/api/briefings/daily-2026-11-26.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    html = client.get("/api/briefings/daily-2026-11-26.html")
    assert "sandbox" in html.headers["content-security-policy"]
    for name in ("../secret.pdf", "..%2Fsecret.pdf", ".hidden.pdf", "daily.exe"):
        assert client.get(f"/api/briefings/{name}").status_code == 404, name


def test_operators_see_source_health_and_test_fetch_a_source(site):
    client = site.client("yw")
    rows = client.get("/api/sources").json()["sources"]
    assert [r["id"] for r in rows] == ["demo-hclz", "demo-board", "demo-news"]
    assert {r["health"] for r in rows} == {"unknown"}  # never crawled here
    page = client.get("/sources").text
    response = client.post("/sources/demo-news/test", data={"csrf": csrf_of(page)})
    assert response.status_code == 200
    assert "试抓取 demo-news" in response.text and "将发布 <b>" in response.text
    preview = client.post("/api/sources/demo-news/test", headers={"X-CSRF-Token": client.csrf}).json()
    assert preview["error"] is None and len(preview["articles"]) >= 1


def test_the_sources_yaml_is_validated_before_it_is_saved(site):
    client = site.client("yw")
    original = site.sources.read_text(encoding="utf-8")
    token = csrf_of(client.get("/sources").text)
    broken = original.replace("type: rss", "type: rsss", 1)
    refused = client.post("/sources", data={"csrf": token, "file": "sources.yaml", "text": broken, "do": "save"})
    assert refused.status_code == 422
    assert f"{site.sources}:5:" in refused.text and "rsss" in refused.text  # FILE:LINE, the real name
    assert site.sources.read_text(encoding="utf-8") == original  # not saved
    fixed = original.replace("示例 新闻网", "示例 新闻网（改）")
    checked = client.post("/sources", data={"csrf": token, "file": "sources.yaml", "text": fixed, "do": "check"})
    assert "校验通过" in checked.text and site.sources.read_text(encoding="utf-8") == original
    saved = client.post("/sources", data={"csrf": token, "file": "sources.yaml", "text": fixed, "do": "save"})
    assert saved.status_code == 303
    assert site.sources.read_text(encoding="utf-8") == fixed
    assert site.sources.with_name("sources.yaml.bak").read_text(encoding="utf-8") == original
    with site.service.store.session() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "sources_save")).scalar_one()
    assert entry.actor == "yw" and entry.before["sha256"] != entry.after["sha256"]
    assert client.post("/sources", data={"file": "sources.yaml", "text": fixed, "do": "save"}).status_code == 403


def test_the_leader_reads_the_accountability_report_and_exports_it(site, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    leader = site.client("zz")
    page = leader.get("/accountability?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200 and "迟报漏报情况" in page.text and "按部门和责任人" in page.text
    pdf = leader.get("/accountability/export?fmt=pdf&from=2026-11-01&to=2026-11-30")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = leader.get("/accountability/export?fmt=xlsx&from=2026-11-01&to=2026-11-30")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert list((tmp_path / "scratch").iterdir()) == []   # the files made for a download do not stay
    assert leader.get("/accountability?from=2026-13-01").status_code == 404



def test_the_queue_flags_local_items_and_shows_other_places_major_items_for_reference(site):
    now = site.service.clock.now()
    far = site.service.ingest(scored("网传广东省某市纪委书记为举报对象通风报信", at=now, level=3, story="far",
                                     text="广东省某市纪委书记被指通风报信"))
    home = site.service.ingest(scored("会昌县某乡纪委干部被指压案不查", at=now, level=3, story="home",
                                      text="会昌县 举报 压案不查"))
    rows = re.findall(r'<tr data-alert="(\w+)".*?</tr>', site.client("xc").get("/queue").text, re.S)
    assert rows.index(home) < rows.index(far)  # the county's own first
    page = site.client("xc").get("/queue").text
    row_of = {m.group(1): m.group(0) for m in re.finditer(r'<tr data-alert="(\w+)".*?</tr>', page, re.S)}
    assert "本地" in row_of[home] and "参考" not in row_of[home]
    assert 'class="countdown"' in row_of[home]          # its one-hour clock runs
    assert "外地" in row_of[far] and "参考" in row_of[far]
    assert 'class="countdown"' not in row_of[far]       # nobody's clock
    assert "参考" in site.client("xc").get(f"/alerts/{far}").text


def test_an_office_hands_in_from_the_form_and_petitions_are_listed_on_the_alert(site):
    xf = site.client("xf")
    page = xf.get("/intake").text
    assert "部门报送" in page and "信访登记" in page
    assert "信访登记" not in site.client("ag").get("/intake").text    # 信访室's, and the coordinating office's
    form = {"csrf": csrf_of(page), "title": "网友称某村补偿款被截留", "text": "村民反映征地补偿款被截留两年",
            "source": "某微信群", "office": "信访室", "level": "一般", "reason": "群内转发较多"}
    answer = xf.post("/intake", data=form)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/alerts/Y")
    alert_id = answer.headers["location"].removeprefix("/alerts/")
    alert = xf.get(f"/alerts/{alert_id}").text
    assert "模型判定:较大" in alert and "报送建议:信访室→一般（群内转发较多），不高于模型判定（较大），从高" in alert

    answer = xf.post("/intake/petition", data={"csrf": csrf_of(page), "alert_id": alert_id, "channel": "来电",
                                               "summary": "来电反映同一村补偿款问题", "named": "on",
                                               "received": "2026-11-26T20:30"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/alerts/{alert_id}"
    alert = xf.get(f"/alerts/{alert_id}").text
    assert "来电（实名）" in alert and "来电反映同一村补偿款问题" in alert and views.bj(datetime(2026, 11, 26, 12, 30, tzinfo=timezone.utc)) in alert

    unrelated = dict(form, title="县城新开面包店", text="面包好吃", level="")
    answer = xf.post("/intake", data=unrelated)
    assert answer.status_code == 303 and answer.headers["location"] == "/intake"
    ag = site.client("ag")                      # 案管室 hands in its own finds, records no petitions
    answer = ag.post("/intake/petition", data={"csrf": csrf_of(ag.get("/intake").text), "alert_id": alert_id,
                                               "channel": "来信", "summary": "x"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/alerts/{alert_id}"
    assert xf.get(f"/alerts/{alert_id}").text.count("登记</div>") == 1    # refused: nothing written


def test_the_sources_page_follows_the_running_crawler(site):
    """yuqing run's crawler writes its state after every source; the page (and its live region,
    refreshed every 10 s in the browser) shows each source's health and the pages it retries."""
    client = site.client("yw")
    state = StateStore(site.tmp / "crawl_state.sqlite3")
    now = datetime.now(timezone.utc)
    try:
        state.record_success("demo-news", now, status="ok", new_items=3)
        state.defer("demo-news", "e1", {"link": "http://x.example/1"}, "timeout: slow", now,
                    max_attempts=5, first_wait_s=60)
        page = client.get("/sources").text
        assert 'id="sources-rows" data-live data-live-every="10"' in page
        row = page.split('data-source="demo-news"')[1].split("</tr>")[0]
        assert "正常" in row and '<td class="pages">1' in row
        state.record_failure("demo-news", now, reason="timeout", message="demo-news: timed out")
        row = client.get("/sources").text.split('data-source="demo-news"')[1].split("</tr>")[0]
        assert "暂时失败" in row and "demo-news: timed out" in row
    finally:
        state.close()
    (api,) = [r for r in client.get("/api/sources").json()["sources"] if r["id"] == "demo-news"]
    assert api["health"] == "failing_soft" and api["pages_waiting"] == 1
