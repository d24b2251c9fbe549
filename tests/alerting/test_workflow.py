"""A story from its first article to closed, under a clock the test moves (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from alerting.access import SYSTEM, Actor
from alerting.config import AlertingConfig
from alerting.errors import Forbidden, IllegalTransition, NotFound, UnknownOffice
from alerting.service import AlertService
from alerting.testing import NINE, scored
from alerting.workflow import TaskSpec

OFFICE = Actor("王敏", "宣传部")
PETITIONS = Actor("李强", "信访室")
CASES = Actor("赵刚", "案管室")
LEADER = Actor("陈组长", role="leader")


def history(service, alert_id):
    return [entry.action for entry in service.show(alert_id, SYSTEM).history]


def test_a_major_story_runs_from_first_article_to_closed_with_its_one_hour_clock(service, clock):
    alert_id = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="s1"))
    detail = service.show(alert_id, OFFICE)
    (deadline,) = detail.deadlines
    assert (deadline.kind, deadline.due_at, deadline.status) == ("major", NINE + timedelta(hours=1), "open")

    clock.advance(minutes=30)
    assert service.tick().reminders == 1            # 30 minutes before
    service.judge(alert_id, OFFICE, "属实可能性大，转信访室核实")
    (task_id,) = service.warn(alert_id, OFFICE, ["信访室"], "请核实举报人身份与所涉事项")
    clock.advance(minutes=15)
    service.complete_task(task_id, PETITIONS, "已联系举报人，所涉干部系镇农业服务中心工作人员")
    assert service.show(alert_id, OFFICE).alert.state == "verifying"
    clock.advance(minutes=5)                         # 09:50: the 10-minute reminder
    assert service.tick().reminders == 1
    service.deep_judge(alert_id, OFFICE, "事实基本清楚，需回应")
    service.report(alert_id, OFFICE, note="已电话报告并报送书面材料")
    service.propose(alert_id, OFFICE, "由镇纪委核查，县纪委监委官方账号发布情况说明")
    service.approve(alert_id, LEADER, "同意")
    service.close(alert_id, OFFICE, "已发布情况说明，舆情平息")

    detail = service.show(alert_id, OFFICE)
    assert detail.alert.state == "closed"
    assert detail.deadlines[0].status == "met"
    clock.advance(hours=2)
    assert service.tick().escalations == 0           # met deadlines never escalate
    assert history(service, alert_id) == [
        "open", "remind", "judge", "warn", "verify", "remind", "deep_judge", "report", "propose",
        "approve", "close"]
    checked, problems = service.verify_audit()
    assert checked == 11 and problems == []


def test_a_missed_deadline_escalates_once_and_a_late_report_stays_late(store_factory, clock):
    config = AlertingConfig()
    first = AlertService(store_factory(), config, clock=clock, channels={})
    alert_id = first.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="s2"))
    clock.advance(minutes=31)
    assert first.tick().reminders == 1

    # a restart: a new process over the same database
    second = AlertService(store_factory(), config, clock=clock, channels={})
    assert second.tick().reminders == 0              # the 30-minute reminder is not sent again
    clock.advance(minutes=20)
    assert second.tick().reminders == 1              # 09:51: the 10-minute one
    clock.advance(minutes=10)
    report = second.tick()
    assert (report.reminders, report.escalations) == (0, 1)
    assert second.tick().escalations == 0
    (deadline,) = second.show(alert_id, OFFICE).deadlines
    assert (deadline.status, deadline.escalated_at) == ("missed", clock.now())

    clock.advance(minutes=5)
    second.report(alert_id, OFFICE)
    (deadline,) = [d for d in second.show(alert_id, OFFICE).deadlines if d.kind == "major"]
    assert deadline.status == "missed" and deadline.done_at == clock.now()
    assert history(second, alert_id) == ["open", "remind", "remind", "deadline_missed", "report"]


def test_reposts_update_one_alert_per_story_and_fast_spread_raises_it(service, clock):
    alert_id = service.ingest(scored("某村干部低保优亲厚友", at=clock.now(), level=1, story="s3"))
    for n in range(9):
        clock.advance(minutes=3)
        same = service.ingest(scored("某村干部低保优亲厚友", at=clock.now(), level=1, story="s3",
                                     source=f"forum-{n}", text=f"转帖{n}：某村干部低保优亲厚友"))
        assert same == alert_id
    detail = service.show(alert_id, OFFICE)
    assert detail.alert.articles == 10 and len(detail.alert.sources) == 10
    assert detail.alert.level == 2                   # 10 articles within the hour
    assert any(reason.startswith("扩散:") for reason in detail.alert.level_reasons)
    assert [a.action for a in detail.history].count("raise") == 1
    assert len(service.list(OFFICE)) == 1


def test_a_redelivered_article_changes_nothing(service, clock):
    article = scored("网传某局长公车私用", at=clock.now(), level=2, story="s4")
    alert_id = service.ingest(article)
    assert service.ingest(article) == alert_id
    detail = service.show(alert_id, OFFICE)
    assert detail.alert.articles == 1
    assert history(service, alert_id) == ["open"]


def test_a_level_two_item_has_no_upward_clock_but_marking_it_overall_starts_the_two_hour_one(service, clock):
    alert_id = service.ingest(scored("县纪委干部被指泄露举报人信息", at=clock.now(), level=2, story="s5"))
    assert service.show(alert_id, OFFICE).deadlines == []
    clock.advance(minutes=40)
    service.judge(alert_id, OFFICE, "可能影响全局", overall=True)
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    # the clock runs from the judgement that found it to be such an item (clocks.raised_from)
    assert (deadline.kind, deadline.due_at) == ("overall", NINE + timedelta(minutes=40) + timedelta(hours=2))


def test_an_emergency_must_be_reported_at_once(service, clock):
    alert_id = service.ingest(scored("网传县纪委干部收钱压案", at=clock.now(), story="s6"))
    clock.advance(minutes=5)
    service.escalate(alert_id, OFFICE, "已在多个平台扩散", emergency=True)
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert deadline.due_at == clock.now() + timedelta(minutes=15)


def test_illegal_steps_and_unknown_offices_are_refused_with_the_way_forward(service, clock):
    alert_id = service.ingest(scored("网传某干部违规操办婚宴", at=clock.now(), level=2, story="s7"))
    with pytest.raises(IllegalTransition, match="possible next steps: 初步研判.*排除误报"):
        service.close(alert_id, OFFICE, "想直接办结")
    with pytest.raises(UnknownOffice, match="宣传科.*信访室"):
        service.judge(alert_id, OFFICE, "x", office="宣传科")
    service.judge(alert_id, OFFICE, "需核实")
    service.warn(alert_id, OFFICE, ["信访室", "案管室"])
    with pytest.raises(IllegalTransition, match="waiting for verification from 信访室、案管室"):
        service.deep_judge(alert_id, OFFICE, "太早")
    with pytest.raises(IllegalTransition, match="reason"):
        service.dismiss(alert_id, OFFICE, "  ")


def test_an_office_sees_and_changes_only_what_is_assigned_to_it(service, clock):
    alert_id = service.ingest(scored("网传某干部违规操办婚宴", at=clock.now(), level=2, story="s8"))
    assert service.list(PETITIONS) == []
    with pytest.raises(NotFound):
        service.show(alert_id, PETITIONS)
    with pytest.raises(NotFound):
        service.judge(alert_id, PETITIONS, "越权")
    service.judge(alert_id, OFFICE, "需核实")
    (task_id,) = service.warn(alert_id, OFFICE, ["信访室"])
    assert [a.id for a in service.list(PETITIONS)] == [alert_id]
    with pytest.raises(Forbidden, match="协调小组办公室"):
        service.dismiss(alert_id, PETITIONS, "不想办")
    with pytest.raises(NotFound):
        service.complete_task(task_id, CASES, "不是我的任务")
    with pytest.raises(Forbidden, match="coordinating group"):
        service.approve(alert_id, OFFICE)
    service.complete_task(task_id, PETITIONS, "经核实，婚宴系亲属操办，未违规")


def test_consultation_tasks_escalate_like_alerts_when_overdue(service, clock):
    alert_id = service.ingest(scored("网传某镇拆迁补偿款被截留", at=clock.now(), level=2, story="s9"))
    tasks = service.consult(alert_id, OFFICE, [
        TaskSpec("核查补偿款发放台账", "监督检查室", "刘洋", timedelta(minutes=45)),
        TaskSpec("准备回应口径", "宣传部", "王敏", timedelta(hours=2))])
    clock.advance(minutes=16)
    assert service.tick().reminders == 1              # 09:15: 30 minutes left on the first task
    clock.advance(minutes=30)                         # 09:46, and the ticker slept through 09:35
    report = service.tick()
    assert (report.reminders, report.escalations) == (0, 1)  # a late reminder yields to the escalation
    detail = service.show(alert_id, OFFICE)
    statuses = {d.key: d.status for d in detail.deadlines}
    assert statuses == {f"task:{tasks[0]}": "missed", f"task:{tasks[1]}": "open"}
    assert [t.person for t in detail.tasks] == ["刘洋", "王敏"]


def test_dismissing_a_false_alarm_stops_its_clocks_and_hands_it_to_training(store_factory, clock):
    dismissed = []
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={},
                           on_dismiss=lambda alert, ids, reason, actor: dismissed.append((alert.id, ids, reason)))
    article = scored("电视剧《突围》热播，剧中干部被双开", at=clock.now(), story="s10")
    alert_id = service.ingest(article)
    assert service.dismiss(alert_id, OFFICE, "影视剧剧情，非现实舆情") == "proposed"  # a 重大 item: the 组长 decides
    assert dismissed == []
    service.approve_dismissal(alert_id, LEADER, "同意")
    assert dismissed == [(alert_id, [article.id], "影视剧剧情，非现实舆情")]
    assert [d.status for d in service.show(alert_id, OFFICE).deadlines] == ["void"]
    clock.advance(hours=2)
    assert service.tick().escalations == 0


def test_a_spike_of_articles_naming_a_place_opens_one_volume_alert(service, clock):
    for n in range(6):
        service.ingest(scored(f"周田镇网友反映问题{n}", at=clock.now(), level=1, story=f"v{n}",
                              text=f"周田镇第{n}条帖子"))
        clock.advance(minutes=5)
    volume = [a for a in service.list(OFFICE) if a.trigger == "volume"]
    assert len(volume) == 1 and volume[0].level == 2
    assert volume[0].title == "「周田」相关信息激增：1小时内最多6篇"
    assert volume[0].articles == 6                   # the five that crossed the line, then the sixth


def test_the_audit_chain_finds_an_edited_a_deleted_and_a_truncated_entry(store_factory, service, clock):
    alert_id = service.ingest(scored("网传某干部酒驾", at=clock.now(), level=2, story="s11"))
    service.judge(alert_id, OFFICE, "需核实")
    service.warn(alert_id, OFFICE, ["信访室"])
    assert service.verify_audit() == (3, [])
    engine = service.store.engine
    with engine.begin() as db:
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 2"))
    with engine.begin() as db:
        _drop_guards(db)
        db.execute(text("UPDATE audit_log SET actor = '张三' WHERE seq = 2"))
    checked, problems = service.verify_audit()
    assert [(p.seq, "changed" in p.problem) for p in problems] == [(2, True)]
    with engine.begin() as db:
        db.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert any("deleted" in p.problem for p in service.verify_audit()[1])
    with engine.begin() as db:
        db.execute(text("DELETE FROM audit_log WHERE seq >= 2"))
    assert any("removed" in p.problem for p in service.verify_audit()[1])


def _drop_guards(db):
    postgres = db.dialect.name == "postgresql"
    for what in ("update", "delete"):
        db.execute(text(f"DROP TRIGGER audit_log_no_{what}" + (" ON audit_log" if postgres else "")))
