"""No way to hide a report (SQLite and PostgreSQL): a 较大 or 重大 item is dismissed only with the
组长's approval, its clocks running meanwhile; an alert whose clocks ask for upward reports is
closed only once they are made or the 组长 exempted them, and a missed one stays missed; every
dismissal is in the next briefing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.access import Actor
from alerting.config import AlertingConfig
from alerting.errors import Forbidden, IllegalTransition, NotFound
from alerting.reports import gather, period
from alerting.service import AlertService
from alerting.testing import NINE, scored
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")
LEADER = Actor("陈组长", role="leader")


@pytest.fixture
def told(store_factory, clock, hook):
    """A service whose 组长 hears through a webhook on loopback."""
    config = AlertingConfig.model_validate({"notify": {
        "channels": [{"name": "leader", "kind": "webhook", "url": hook.url("/leader")}],
        "leader_channels": ["leader"]}})
    return AlertService(store_factory(), config, clock=clock)


def test_one_staff_member_cannot_make_a_major_item_disappear(told, clock, hook):
    alert_id = told.ingest(scored("网传某镇纪委包庇违纪干部", at=clock.now(), story="d1"))
    told.tick()
    hook.wait(1)  # the opening message to the 组长
    assert told.dismiss(alert_id, OFFICE, "经初步了解系误传") == "proposed"
    detail = told.show(alert_id, OFFICE)
    assert detail.alert.state == "new" and [d.status for d in detail.deadlines] == ["open"]
    told.tick()
    proposal = [m for m in hook.wait(2) if "排除申请" in m.json["title"]]
    assert proposal and "经初步了解系误传" in proposal[0].json["message"]

    with pytest.raises(IllegalTransition, match="already waiting"):
        told.dismiss(alert_id, OFFICE, "再申请一次")
    with pytest.raises(Forbidden, match="coordinating group"):
        told.approve_dismissal(alert_id, OFFICE)
    clock.advance(minutes=61)
    assert told.tick().escalations == 1  # the clock kept running while the request waited

    with pytest.raises(IllegalTransition, match="say why"):
        told.return_dismissal(alert_id, LEADER, "  ")
    told.return_dismissal(alert_id, LEADER, "网上仍在发酵，继续核实")
    assert told.show(alert_id, OFFICE).alert.state == "new"
    assert told.dismiss(alert_id, OFFICE, "核实为误传，已有官方通报") == "proposed"
    told.approve_dismissal(alert_id, LEADER, "同意")
    detail = told.show(alert_id, OFFICE)
    assert detail.alert.state == "dismissed"
    assert [d.status for d in detail.deadlines] == ["missed"]  # the missed hour stays missed
    assert [(d.state, d.proposed_by, d.decided_by) for d in detail.dismissals] == [
        ("returned", "王敏", "陈组长"), ("approved", "王敏", "陈组长")]
    with pytest.raises(IllegalTransition, match="已排除"):
        told.approve_dismissal(alert_id, LEADER)
    other = told.ingest(scored("网传某局长公车私用", at=clock.now(), level=2, story="d1b"))
    with pytest.raises(NotFound, match="no dismissal waiting"):
        told.approve_dismissal(other, LEADER)


def test_a_routine_item_is_dismissed_by_its_office_and_the_leader_dismisses_directly(service, clock):
    routine = service.ingest(scored("某镇开展廉政教育月活动", at=clock.now(), level=1, story="d2"))
    major = service.ingest(scored("网传某纪委干部泄露举报人信息", at=clock.now(), story="d3"))
    assert service.dismiss(routine, OFFICE, "与纪检监察无关") == "dismissed"
    assert service.dismiss(major, LEADER, "经查系旧闻翻炒") == "dismissed"
    states = {a.id: a.state for a in service.list(LEADER, states=["dismissed"])}
    assert states == {routine: "dismissed", major: "dismissed"}


def test_lowering_a_major_item_first_does_not_let_one_staff_member_dismiss_it(service, clock):
    alert_id = service.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="d7"))
    service.judge(alert_id, OFFICE, "初判为一般", level=1)
    assert service.dismiss(alert_id, OFFICE, "不实") == "proposed"   # it was 重大: the 组长 decides
    detail = service.show(alert_id, OFFICE)
    assert detail.alert.state != "dismissed"
    assert [(d.state, d.level) for d in detail.dismissals] == [("proposed", 1)]


def test_the_leaders_direct_dismissal_decides_a_waiting_proposal(service, clock):
    alert_id = service.ingest(scored("网传某镇纪委压案不查", at=clock.now(), story="d8"))
    assert service.dismiss(alert_id, OFFICE, "当事人已澄清") == "proposed"
    assert service.dismiss(alert_id, LEADER, "经查系旧闻翻炒") == "dismissed"
    detail = service.show(alert_id, LEADER)
    assert sorted((d.state, d.proposed_by, d.decided_by) for d in detail.dismissals) == [
        ("approved", "王敏", "陈组长"), ("direct", "陈组长", "陈组长")]
    assert service.dismissals.waiting(LEADER) == []


def test_every_dismissal_is_in_the_briefing_with_who_proposed_decided_and_why(service, clock):
    kept = service.ingest(scored("网传某局长公车私用", at=clock.now(), level=2, story="d4"))
    gone = service.ingest(scored("某镇开展廉政教育月活动", at=clock.now(), level=1, story="d5"))
    waiting = service.ingest(scored("网传某镇纪委压案不查", at=clock.now(), story="d6"))
    service.dismiss(kept, OFFICE, "疑似旧闻")
    service.return_dismissal(kept, LEADER, "须核实后再定")
    service.dismiss(gone, OFFICE, "与纪检监察无关")
    service.dismiss(waiting, OFFICE, "当事人已澄清")
    day = NINE.astimezone(SHANGHAI).date()
    start, end, prev_start, prev_end = period("daily", day)
    data = gather(service.store, service.config, "daily", start, end, prev_start, prev_end,
                  clock.now() + timedelta(hours=1))
    lines = {(d.alert_id, d.state, d.proposed_by, d.decided_by, d.reason) for d in data.dismissals}
    assert lines == {(kept, "returned", "王敏", "陈组长", "疑似旧闻"), (gone, "direct", "王敏", "王敏", "与纪检监察无关"),
                     (waiting, "proposed", "王敏", "", "当事人已澄清")}
    assert any(s.alert_id == waiting for s in data.stories)  # a waiting request hides nothing


def test_no_close_without_the_upward_reports_and_a_miss_stays_a_miss(service, clock):
    alert_id = service.ingest(scored("网传某镇纪委包庇违纪干部", at=clock.now(), story="d7"))
    service.judge(alert_id, OFFICE, "属实")
    (task,) = service.warn(alert_id, OFFICE, ["信访室"])
    service.complete_task(task, Actor("李强", "信访室"), "已核实")
    service.deep_judge(alert_id, OFFICE, "确有其事")
    service.propose(alert_id, OFFICE, "回应并上报")
    service.approve(alert_id, LEADER)
    clock.advance(minutes=70)
    service.tick()  # the one-hour report is missed
    with pytest.raises(IllegalTransition, match="1小时.*not made.*already missed.*exempt"):
        service.close(alert_id, OFFICE, "处置完毕")

    with pytest.raises(Forbidden, match="coordinating group"):
        service.exempt(alert_id, OFFICE, "major", "不必报")
    with pytest.raises(IllegalTransition, match="reason"):
        service.exempt(alert_id, LEADER, "major", " ")
    service.exempt(alert_id, LEADER, "major", "市纪委已电话掌握，免于书面报告")
    service.close(alert_id, OFFICE, "处置完毕")
    detail = service.show(alert_id, OFFICE)
    (deadline,) = [d for d in detail.deadlines if d.key == "major"]  # besides the verification task's
    assert (detail.alert.state, deadline.status, deadline.exempted_by) == ("closed", "missed", "陈组长")


def test_a_late_report_lets_the_alert_close_and_stays_late(service, clock):
    alert_id = service.ingest(scored("网传某纪委干部酒驾", at=clock.now(), story="d8"))
    clock.advance(minutes=90)
    service.tick()
    service.report(alert_id, OFFICE)
    (deadline,) = [d for d in service.show(alert_id, OFFICE).deadlines if d.kind == "major"]
    assert deadline.status == "missed" and deadline.done_at is not None
    with pytest.raises(IllegalTransition, match="already made"):
        service.exempt(alert_id, LEADER, "major", "补报后免报")
