"""The JSON API: the workflow through the service as the logged-in user, and each office seeing
and changing only what is theirs; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from alerting.testing import scored


def open_alert(service, title="#会昌 实名举报# 某局长公车私用", level=3, **kw):
    return service.ingest(scored(title, at=service.clock.now() - timedelta(minutes=5), level=level, **kw))


def test_the_queue_is_sorted_by_urgency_with_deadline_and_spread(service, clients):
    minor = open_alert(service, "县委巡察组进驻", level=1, story="s1")
    major = open_alert(service, "实名举报副局长", level=3, story="s2")
    for n in range(3):
        service.ingest(scored(f"转发：实名举报副局长 {n}", at=service.clock.now(), level=3, story="s2",
                              source=f"site-{n}"))
    rows = clients("xc").get("/api/alerts").json()
    assert [r["id"] for r in rows] == [major, minor]
    top = rows[0]
    assert (top["level_name"], top["state_label"], top["articles"], top["sources"]) == ("重大", "新发现", 4, 4)
    assert top["deadline"]["label"] == "1小时上报" and top["deadline"]["status"] == "open"
    assert rows[1]["deadline"] is None


def test_an_office_sees_only_what_is_routed_or_tasked_to_it_at_the_api(service, clients):
    alert_id = open_alert(service)  # routed to 宣传部
    xc, xf, ag = clients("xc"), clients("xf"), clients("ag")
    assert xf.get("/api/alerts").json() == []
    assert xf.get(f"/api/alerts/{alert_id}").status_code == 404
    assert xf.get(f"/api/stories/{alert_id}").status_code == 404
    for action, body in (("judge", {"note": "x"}), ("ack", {}), ("dismiss", {"reason": "x"})):
        assert xf.post(f"/api/alerts/{alert_id}/{action}", json=body).status_code == 404
    assert xc.post(f"/api/alerts/{alert_id}/judge", json={"note": "属实", "level": 3}).status_code == 200
    task = xc.post(f"/api/alerts/{alert_id}/warn", json={"offices": ["信访室"], "note": "请核实"}).json()["tasks"][0]

    assert [r["id"] for r in xf.get("/api/alerts").json()] == [alert_id]  # now it is theirs too
    assert [t["id"] for t in xf.get("/api/tasks").json()] == [task]
    # ... but not 案管室's: not in the list, absent when asked, and its task cannot be touched
    assert ag.get("/api/alerts").json() == [] and ag.get("/api/tasks").json() == []
    assert ag.get(f"/api/alerts/{alert_id}").status_code == 404
    assert ag.post(f"/api/tasks/{task}/complete", json={"result": "假的"}).status_code == 404
    assert ag.post(f"/api/alerts/{alert_id}/ack", json={}).status_code == 404
    # 信访室 may see it and report its verification, but not steer the workflow
    assert xf.post(f"/api/alerts/{alert_id}/dismiss", json={"reason": "x"}).status_code == 403
    assert xf.post(f"/api/alerts/{alert_id}/assign", json={"office": "信访室"}).status_code == 403
    assert xf.post(f"/api/tasks/{task}/complete", json={"result": "经核实，情况属实"}).status_code == 200
    detail = xc.get(f"/api/alerts/{alert_id}").json()
    assert detail["state"] == "verifying" and detail["tasks"][0]["result"] == "经核实，情况属实"


def test_the_whole_workflow_over_the_api_ends_closed_and_audited(service, clients):
    alert_id = open_alert(service)
    xc, xf, zz = clients("xc"), clients("xf"), clients("zz")

    def act(client, action, **body):
        response = client.post(f"/api/alerts/{alert_id}/{action}", json=body)
        assert response.status_code == 200, (action, response.text)
        return response.json()

    act(xc, "ack")
    act(xc, "judge", note="实名举报，需核实", level=3)
    task = act(xc, "warn", offices=["信访室"], within_minutes=45)["tasks"][0]
    assert xf.post(f"/api/tasks/{task}/complete", json={"result": "已核实"}).status_code == 200
    act(xc, "deep_judge", note="事实清楚")
    act(xc, "propose", proposal="发布情况通报")
    assert xc.post(f"/api/alerts/{alert_id}/approve", json={}).status_code == 403  # the coordinating group's
    act(zz, "approve", note="同意")
    assert xc.post(f"/api/alerts/{alert_id}/close", json={"note": "x"}).status_code == 409  # report first
    assert act(xc, "report", note="已电话报告")["recipients"] == ["市纪委监委宣传部", "县委", "县委宣传部"]
    act(xc, "close", note="已办结")
    detail = xc.get(f"/api/alerts/{alert_id}").json()
    major = [d for d in detail["deadlines"] if d["kind"] == "major"]
    assert detail["state"] == "closed" and [d["status"] for d in major] == ["met"]
    steps = [(h["actor"], h["action"]) for h in detail["history"]]
    assert steps == [("yuqing", "open"), ("xc", "ack"), ("xc", "judge"), ("xc", "warn"), ("xf", "verify"),
                     ("xc", "deep_judge"), ("xc", "propose"), ("zz", "approve"), ("xc", "report"), ("xc", "close")]
    count, problems = service.verify_audit()
    assert problems == [] and count > len(steps)  # logins are in the chain too


def test_refusals_carry_the_services_status_and_words(service, clients):
    alert_id = open_alert(service)
    xc = clients("xc")
    again = xc.post(f"/api/alerts/{alert_id}/warn", json={"offices": ["信访室"]})
    assert again.status_code == 409 and "初步研判" in again.json()["detail"]
    assert xc.post(f"/api/alerts/{alert_id}/assign", json={"office": "不存在室"}).status_code == 422
    assert xc.post(f"/api/alerts/{alert_id}/dismiss", json={"reason": ""}).status_code == 422
    assert xc.post(f"/api/alerts/{alert_id}/judge", json={"note": "x", "colour": "red"}).status_code == 422
    assert xc.post("/api/alerts/YNOSUCH/judge", json={"note": "x"}).status_code == 404


def test_analysts_and_operators_read_but_do_not_act(service, clients):
    alert_id = open_alert(service)
    fx, yw = clients("fx"), clients("yw")
    assert fx.get(f"/api/alerts/{alert_id}").status_code == 200  # as their office (宣传部) sees it
    assert fx.post(f"/api/alerts/{alert_id}/judge", json={"note": "x"}).status_code == 403
    assert yw.post(f"/api/alerts/{alert_id}/ack", json={}).status_code == 403
    assert yw.get("/api/search").status_code == 403 and yw.get("/api/sources").status_code == 200
    assert clients("xf").get("/api/sources").status_code == 403
    assert clients("xc").get("/api/overview").status_code == 403
    overview = clients("zz").get("/api/overview").json()
    assert [a["id"] for a in overview["major"]] == [alert_id]


def test_the_leader_overview_counts_overdue_deadlines(service, clients):
    alert_id = open_alert(service)
    service.clock.advance(hours=1)
    overview = clients("zz").get("/api/overview").json()
    assert [x["alert"]["id"] for x in overview["overdue"]] == [alert_id]
    service.tick(deliver=False)  # the escalation marks it missed: still overdue until reported
    assert len(clients("zz").get("/api/overview").json()["overdue"]) == 1


def test_the_openapi_document_describes_every_action(clients):
    spec = clients.anonymous().get("/api/openapi.json").json()
    paths = spec["paths"]
    for action in ("judge", "warn", "assign", "consult", "report", "dismiss", "approve", "close"):
        assert f"/api/alerts/{{alert_id}}/{action}" in paths
    for path in ("/api/alerts", "/api/tasks", "/api/search", "/api/trends", "/api/sources", "/api/briefings",
                 "/api/events", "/api/login"):
        assert path in paths
    assert not any(p.startswith(("/queue", "/login")) for p in paths)  # pages are not API


def test_a_missed_deadline_stays_in_the_queue_the_deadlines_and_the_alert_with_how_late(service, clients):
    alert_id = open_alert(service)                   # first seen 5 minutes ago: due in 55 minutes
    service.clock.advance(hours=1, minutes=5)
    assert service.tick(deliver=False).escalations == 1
    xc = clients("xc")

    (row,) = xc.get("/api/alerts").json()
    deadline = row["deadline"]
    assert (deadline["label"], deadline["status"], deadline["status_label"]) == ("1小时上报", "missed", "已超时")
    assert (deadline["owed"], deadline["overdue"], deadline["left"]) == (True, True, "超时10分")
    assert [x["deadline"]["left"] for x in xc.get("/api/deadlines").json()] == ["超时10分"]
    assert xc.get(f"/api/alerts/{alert_id}").json()["deadline"]["status"] == "missed"
    assert "超时10分" in xc.get("/queue").text and "已超时·已报组长" in xc.get("/queue").text
    assert "超时10分" in xc.get(f"/alerts/{alert_id}").text

    assert xc.post(f"/api/alerts/{alert_id}/report", json={"note": "补报"}).status_code == 200
    assert xc.get("/api/alerts").json()[0]["deadline"] is None
    assert xc.get("/api/deadlines").json() == []
    (made,) = [d for d in xc.get(f"/api/alerts/{alert_id}").json()["deadlines"] if d["kind"] == "major"]
    assert (made["status_label"], made["owed"]) == ("已超时", False)   # late stays late in the record
