"""Malformed input to the pages and the API is refused as bad input (4xx, the message naming the
field), never a 500: numbers that ``str.isdigit`` takes and ``int`` does not ("²"), numbers past
the databases' integers, dates at the ends of the calendar, a NUL in a search term, and JSON
with NaN, which the validation error could not encode; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from alerting.access import SYSTEM
from alerting.testing import scored
from pipeline.index.sqlite import SqliteIndex
from yuqing.web import ConsoleOptions, create_app

PASSWORD = "correct horse 9"
JSON = {"content-type": "application/json"}
HUGE = "99999999999999999999"

#: (who, method, path, body): what a person, a script or a scanner may send
PROBES = [
    ("xc", "GET", "/api/search?until=9999-12-31", None),
    ("xc", "GET", "/search?until=9999-12-31", None),
    ("xc", "GET", f"/api/search?level={HUGE}", None),
    ("xc", "GET", "/api/search?level=%C2%B2", None),
    ("zz", "GET", "/accountability?from=0001-01-01&to=0001-01-02", None),
    ("zz", "GET", "/accountability?from=9999-12-30&to=9999-12-31", None),
    ("xc", "POST", f"/api/tasks/{HUGE}/complete", {"result": "已核实"}),
    ("xc", "GET", "/queue?level=%C2%B2", None),
    ("xc", "GET", "/queue?level=%D9%A3", None),  # an Arabic-Indic three
    ("xc", "GET", "/search?page=%C2%B2", None),
    ("xc", "GET", f"/search?page={HUGE}", None),
    ("xc", "GET", "/trends?days=%C2%B2", None),
    ("xc", "FORM", "/alerts/{alert}/act/judge", {"level": "²", "note": "初核"}),
    ("xc", "FORM", "/alerts/{alert}/act/judge", {"level": HUGE, "note": "初核"}),
    ("xc", "FORM", "/alerts/{alert}/act/warn", {"offices": "信访室", "within_minutes": "²"}),
    ("xc", "FORM", f"/tasks/{HUGE}/complete", {"result": "已核实"}),
    (None, "RAW", "/api/login", b'{"name": NaN, "password": "x"}'),
    ("xc", "RAW", "/api/alerts/{alert}/judge", b'{"level": NaN}'),
    ("xc", "RAW", "/api/alerts/{alert}/judge", b'{"level": Infinity}'),
]


@pytest.fixture
def console(service, tmp_path):
    now = service.clock.now()
    index = SqliteIndex(tmp_path / "index.sqlite3")
    article = scored("实名举报副局长公车私用", at=now - timedelta(minutes=30), level=3, story="s2",
                     text="公车私用 举报 违纪违法")
    index.add(article)
    index.flush()
    index.refresh()
    index.close()
    alert = service.ingest(article)
    app = create_app(service, ConsoleOptions(briefings=tmp_path / "briefings",
                                             open_index=lambda: SqliteIndex(tmp_path / "index.sqlite3")))
    opened = {}

    def client(name):
        if name not in opened:
            c = TestClient(app, follow_redirects=False)  # a 500 is raised here: the test fails with it
            c.__enter__()
            if name:
                login = c.post("/api/login", json={"name": name, "password": PASSWORD})
                c.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            opened[name] = c
        return opened[name]

    yield client, alert, service
    for c in opened.values():
        c.__exit__(None, None, None)


def _flash(response) -> dict:
    raw = response.cookies.get("yuqing_flash")
    return json.loads(base64.urlsafe_b64decode(raw.encode())) if raw else {}


@pytest.mark.parametrize("who, method, path, body", PROBES, ids=[f"{m} {p}" for _, m, p, _ in PROBES])
def test_malformed_input_is_refused_as_bad_input(console, who, method, path, body):
    client, alert, service = console
    c = client(who)
    path = path.format(alert=alert)
    before = len(service.show(alert, SYSTEM).history)
    if method == "GET":
        answer = c.get(path)
    elif method == "POST":
        answer = c.post(path, json=body)
    elif method == "RAW":
        answer = c.post(path, content=body, headers=JSON)
    else:  # a form of a page: refused pages send the person back with the reason
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(f"/alerts/{alert}").text).group(1)
        answer = c.post(path, data={"csrf": csrf, **body})
    if answer.status_code == 303:  # an action's form: back to the alert with the reason
        assert "/act/" in path and _flash(answer).get("kind") == "error", _flash(answer)
    else:
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert "NaN" not in answer.text and "Infinity" not in answer.text  # the input is not echoed
    assert len(service.show(alert, SYSTEM).history) == before  # nothing was done


def test_a_nul_in_a_search_term_is_ignored_not_a_failure(console):
    client, alert, _ = console
    found = client("xc").get("/api/search?q=%E5%85%AC%E8%BD%A6%00%E7%A7%81%E7%94%A8").json()
    assert [hit["title"] for hit in found["hits"]] == ["实名举报副局长公车私用"]
    page = client("xc").get("/search?q=%22%E5%85%AC%E8%BD%A6%00&source=a%00b")
    assert page.status_code == 200


def test_a_number_out_of_range_says_which_field(console):
    client, _, _ = console
    answer = client("xc").get("/queue?level=%C2%B2")
    assert answer.status_code == 422 and "level" in answer.text and "1 to 3" in answer.text
    answer = client("xc").get("/api/search?level=7")
    assert answer.status_code == 422 and "level" in answer.json()["detail"]

