"""The 组长 approves briefings in the console: the overview's forms, the briefings page, the JSON API."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from alerting import audit

DAILY = "舆情日报-2026-11-26"
WEEKLY = "舆情周报-2026-11-16至2026-11-22"


@pytest.fixture
def folder(tmp_path):
    """The console's briefings folder (``app`` serves tmp_path/briefings) with two briefings."""
    folder = tmp_path / "briefings"
    folder.mkdir()
    for name in (DAILY, WEEKLY):
        (folder / f"{name}.html").write_text(f"<p>{name}</p>", encoding="utf-8")
        (folder / f"{name}.pdf").write_bytes(b"%PDF-1.7 test")
    return folder


def review_of(client, name: str) -> dict:
    return next(row["review"] for row in client.get("/api/briefings").json() if row["name"] == name)


def pending_section(html: str) -> str:
    return re.search(r'<section class="panel" id="briefings-pending">(.*?)</section>', html, re.S).group(1)


def test_the_leader_approves_and_returns_over_the_api(service, clients, folder):
    zz = clients("zz")
    assert review_of(zz, DAILY) == {"state": "pending", "state_label": "待审批", "last": None, "by": None,
                                    "at": None, "note": ""}
    approved = zz.post(f"/api/briefings/{DAILY}/approve", json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    assert approved.json() | {"at": None} == {"name": DAILY, "state": "approved", "state_label": "已批准",
                                              "by": "zz", "at": None, "note": "同意"}
    review = review_of(zz, DAILY)
    assert (review["state"], review["state_label"], review["by"]) == ("approved", "已批准", "zz")
    assert review["at"] == service.clock.now().isoformat()

    again = zz.post(f"/api/briefings/{DAILY}/approve")  # no body: the note is optional
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    assert zz.post(f"/api/briefings/{WEEKLY}/return", json={}).status_code == 422
    assert zz.post(f"/api/briefings/{WEEKLY}/return", json={"note": ""}).status_code == 422
    assert zz.post(f"/api/briefings/{WEEKLY}/return", json={"note": "  "}).status_code == 409
    returned = zz.post(f"/api/briefings/{WEEKLY}/return", json={"note": "案管室数据有误"})
    assert returned.status_code == 200 and returned.json()["state_label"] == "已退回"
    assert review_of(zz, WEEKLY)["note"] == "案管室数据有误"
    assert zz.post("/api/briefings/舆情日报-2000-01-01/approve").status_code == 404

    with service.store.session() as session:
        actions = [(e.actor, e.action, (e.after or {}).get("briefing")) for e in audit.entries(session)
                   if e.action.startswith("briefing_")]
    assert actions == [("zz", "briefing_approve", DAILY), ("zz", "briefing_return", WEEKLY)]
    assert service.verify_audit()[1] == []


@pytest.mark.parametrize("name", ["xf", "xc", "fx"])  # 信访室 staff, 宣传部 staff, an analyst
def test_anyone_but_the_leader_is_refused_at_the_api(service, clients, folder, name):
    client = clients(name)
    assert client.post(f"/api/briefings/{DAILY}/approve", json={}).status_code == 403
    assert client.post(f"/api/briefings/{DAILY}/return", json={"note": "重写"}).status_code == 403
    assert service.briefing_reviews() == {}


def test_a_decision_needs_the_csrf_token(service, clients, folder):
    zz = clients("zz")
    del zz.headers["X-CSRF-Token"]
    assert zz.post(f"/api/briefings/{DAILY}/approve", json={}).status_code == 403
    assert service.briefing_reviews() == {}


def test_the_overview_lists_briefings_to_approve_until_the_leader_approves(service, clients, folder):
    zz = clients("zz")
    page = zz.get("/overview").text
    pending = pending_section(page)
    assert DAILY in pending and WEEKLY in pending and "批准" in pending and "退回" in pending
    assert f'action="/briefings/{quote(DAILY)}/approve?next=/overview"' in pending
    assert f'name="csrf" value="{zz.csrf}"' in pending
    assert sorted(b["name"] for b in zz.get("/api/overview").json()["briefings_pending"]) == sorted([DAILY, WEEKLY])

    assert zz.post(f"/briefings/{DAILY}/approve", data={"note": ""}).status_code == 403  # no CSRF token
    refused = zz.post(f"/briefings/{WEEKLY}/return?next=/overview", data={"csrf": zz.csrf, "note": ""})
    assert refused.status_code == 303
    page = zz.get("/overview").text
    assert "退回未完成" in page and WEEKLY in pending_section(page)

    done = zz.post(f"/briefings/{DAILY}/approve?next=/overview", data={"csrf": zz.csrf})
    assert done.status_code == 303 and done.headers["location"] == "/overview"
    page = zz.get("/overview").text
    assert f"通报 {DAILY}：已批准" in page
    assert DAILY not in pending_section(page) and WEEKLY in pending_section(page)
    assert [b["name"] for b in zz.get("/api/overview").json()["briefings_pending"]] == [WEEKLY]

    listing = zz.get("/briefings").text
    row = re.search(rf'<tr data-briefing="{DAILY}">(.*?)</tr>', listing, re.S).group(1)
    assert "已批准" in row and "zz" in row


def test_a_staff_form_post_is_refused_with_a_message_and_changes_nothing(service, clients, folder):
    xc = clients("xc")
    response = xc.post(f"/briefings/{DAILY}/approve?next=/briefings", data={"csrf": xc.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/briefings"
    assert "批准未完成" in xc.get("/briefings").text
    assert service.briefing_reviews() == {}


def test_the_openapi_document_describes_the_decisions(clients):
    paths = clients.anonymous().get("/api/openapi.json").json()["paths"]
    assert "post" in paths["/api/briefings/{name}/approve"] and "post" in paths["/api/briefings/{name}/return"]
    body = paths["/api/briefings/{name}/return"]["post"]["requestBody"]
    assert body["required"] is True
