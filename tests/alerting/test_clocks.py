"""The clocks' edge cases: a missed deadline stays owed, a story raised to 重大 late gets its hour
from the raise, an office's clock is urgent whatever the level, and the words of the messages;
under a ManualClock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alerting.access import SYSTEM, Actor
from alerting.clock import ManualClock
from alerting.config import STATE_LABELS, AlertingConfig
from alerting.errors import IllegalTransition
from alerting.messages import time_left
from alerting.service import AlertService
from alerting.testing import NINE, scored
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")
PETITIONS = Actor("李强", "信访室")


def mail_config(smtp, **extra) -> AlertingConfig:
    """宣传部 and the 组长 by mail, 信访室 by its own mailbox; ``extra`` adds top-level settings."""
    notify = extra.pop("notify", {})
    return AlertingConfig.model_validate({"notify": {
        "channels": [smtp.channel_config("xcb_mail", to=["xcb@huichang.example"]),
                     smtp.channel_config("xfs_mail", to=["xfs@huichang.example"]),
                     smtp.channel_config("leader_mail", to=["zuzhang@huichang.example"])],
        "routes": [{"offices": ["宣传部"], "channels": ["xcb_mail"]},
                   {"offices": ["信访室"], "channels": ["xfs_mail"]}],
        "leader_channels": ["leader_mail"], **notify}, **extra})


def subjects(smtp, to: str) -> list[str]:
    return [m["Subject"] for m in smtp.messages if to in m["To"]]


def body_of(smtp, subject_start: str) -> str:
    (message,) = [m for m in smtp.messages if m["Subject"].startswith(subject_start) and "xcb@" in m["To"]]
    return message.get_content()


# ---- a missed deadline stays owed until its work is done ----------------------------------------


def test_a_missed_report_stays_in_the_queue_and_the_deadlines_until_it_is_made(service, clock):
    alert_id = service.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="m1"))
    clock.set(NINE + timedelta(hours=1, minutes=5))
    assert service.tick().escalations == 1

    ((alert, deadline),) = service.queue(OFFICE)
    assert (alert.id, deadline.label, deadline.status) == (alert_id, "1小时上报", "missed")
    assert time_left(deadline.due_at, clock.now()) == "超时5分"
    ((alert, deadline),) = service.queue(OFFICE, states=list(STATE_LABELS))   # --all
    assert deadline is not None and deadline.status == "missed"
    assert [(d.key, a.id) for d, a in service.open_deadlines(OFFICE)] == [("major", alert_id)]

    service.judge(alert_id, OFFICE, "属实")
    service.warn(alert_id, OFFICE, ["信访室"], "请核实")
    service.complete_task(service.show(alert_id, OFFICE).tasks[0].id, PETITIONS, "已核实")
    service.deep_judge(alert_id, OFFICE, "事实清楚")
    service.propose(alert_id, OFFICE, "发布情况说明")
    service.approve(alert_id, Actor("陈组长", role="leader"))
    with pytest.raises(IllegalTransition, match="1小时上报 not made"):
        service.close(alert_id, OFFICE, "已平息")      # the missed report is still owed

    clock.advance(minutes=10)
    service.report(alert_id, OFFICE)
    assert service.queue(OFFICE)[0][1] is None and service.open_deadlines(OFFICE) == []
    (deadline,) = [d for d in service.show(alert_id, OFFICE).deadlines if d.kind == "major"]
    assert deadline.status == "missed" and deadline.done_at == clock.now()   # late stays late


def test_an_overdue_item_stays_in_a_full_queue_behind_newer_ones(service, clock):
    old = service.ingest(scored("某镇干部工作作风问题被网友吐槽", at=clock.now(), story="q0", level=1))
    service.judge(old, OFFICE, "一般，需核实")
    service.warn(old, OFFICE, ["信访室"])
    clock.advance(hours=2)
    service.tick()                                              # the verification is missed
    service.ingest_many([scored(f"网友反映某村道路问题{i}", at=clock.now(), story=f"q{i + 1}", level=1,
                                source=f"s{i}") for i in range(5)])
    queue = service.queue(OFFICE, limit=3)                      # three newer items fill the limit
    assert len(queue) == 4 and queue[0][0].id == old and queue[0][1].status == "missed"


def test_a_missed_verification_stays_owed_until_the_office_reports_it(service, clock):
    alert_id = service.ingest(scored("网传某村干部截留补偿款", at=clock.now(), level=2, story="m2"))
    service.judge(alert_id, OFFICE, "需核实")
    (task_id,) = service.warn(alert_id, OFFICE, ["信访室"], "请核实", timedelta(minutes=3))
    clock.advance(minutes=4)
    assert service.tick().escalations == 1
    ((deadline, alert),) = service.open_deadlines(PETITIONS)
    assert (alert.id, deadline.label, deadline.status) == (alert_id, f"核实#{task_id}", "missed")
    ((_, queued),) = service.queue(PETITIONS)
    assert queued.id == deadline.id
    service.complete_task(task_id, PETITIONS, "已核实，系补偿款发放延迟")
    assert service.open_deadlines(PETITIONS) == [] and service.queue(PETITIONS)[0][1] is None


def test_a_false_alarm_owes_no_report_once_dismissed(service, clock):
    alert_id = service.ingest(scored("网传县纪委干部收钱压案", at=clock.now(), story="m3"))
    clock.advance(hours=1, minutes=1)
    service.tick()
    assert len(service.open_deadlines(OFFICE)) == 1
    service.dismiss(alert_id, OFFICE, "系旧闻，已处理完毕")
    assert len(service.open_deadlines(OFFICE)) == 1  # a 重大 item waits for the 组长's decision
    service.approve_dismissal(alert_id, Actor("陈组长", role="leader"))
    assert service.open_deadlines(OFFICE) == []
    ((alert, deadline),) = service.queue(OFFICE, states=["dismissed"])
    assert deadline is None


# ---- a level reached later starts its clock then -----------------------------------------------


def test_a_story_raised_to_major_late_gets_its_hour_from_the_raise_and_the_message_says_until_when(
        store_factory, smtp):
    clock = ManualClock(datetime(2026, 11, 27, 9, 8, tzinfo=SHANGHAI))
    service = AlertService(store_factory(), mail_config(smtp), clock=clock)
    alert_id = service.ingest(scored("网传某镇干部违规发放补贴", at=clock.now(), level=2, story="r1"))
    clock.set(datetime(2026, 11, 27, 10, 18, tzinfo=SHANGHAI))
    service.ingest(scored("网传某镇干部违规发放补贴，多名村民实名举报", at=clock.now(), level=3, story="r1",
                          source="forum-1"))
    report = service.tick()
    assert (report.reminders, report.escalations) == (0, 0)        # not "missed" the moment it is found
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert (deadline.status, deadline.due_at) == ("open", datetime(2026, 11, 27, 11, 18, tzinfo=SHANGHAI))
    assert "时限：1小时上报，须于 2026-11-27 11:18 前完成" in body_of(smtp, "【升级为重大】")

    clock.set(datetime(2026, 11, 27, 10, 48, tzinfo=SHANGHAI))
    assert service.tick().reminders == 1
    clock.set(datetime(2026, 11, 27, 11, 18, tzinfo=SHANGHAI))
    assert service.tick().escalations == 1


def test_an_earlier_article_taken_in_late_moves_the_first_sighting_and_the_hour_up(service, clock):
    found = clock.now()
    clock.advance(minutes=40)
    alert_id = service.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="lag",
                                     source="tieba-1"))
    clock.advance(minutes=5)          # the article fetched 40 minutes earlier comes from a lagging partition
    service.ingest(scored("多名群众围堵镇政府，与干部发生冲突！", at=found, story="lag", source="weibo-1"))
    detail = service.show(alert_id, OFFICE)
    assert (detail.alert.first_seen, detail.alert.first_source) == (found, "weibo-1")
    (deadline,) = detail.deadlines
    assert (deadline.status, deadline.due_at) == ("open", found + timedelta(hours=1))


def test_an_earlier_article_leaves_a_clock_that_runs_from_a_raise(service, clock):
    found = clock.now()
    clock.advance(minutes=30)
    alert_id = service.ingest(scored("网传某镇干部违规发放补贴", at=clock.now(), level=2, story="raised"))
    clock.advance(minutes=70)
    service.ingest(scored("网传某镇干部违规发放补贴，多名村民实名举报", at=clock.now(), level=3, story="raised",
                          source="forum-1"))
    raised = clock.now()
    service.ingest(scored("网传某镇干部违规发放补贴。", at=found, level=2, story="raised", source="weibo-1"))
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert deadline.due_at == raised + timedelta(hours=1)   # the hour from the raise, not from 09:00


@pytest.mark.parametrize("raised_at, due", [("10:18", "10:48"), ("09:20", "10:08")])
def test_clocks_may_run_from_first_seen_with_a_minimum_left_by_setting(store_factory, raised_at, due):
    config = AlertingConfig.model_validate({"clocks": {"raised_from": "first_seen", "min_left": "30m"}})
    clock = ManualClock(datetime(2026, 11, 27, 9, 8, tzinfo=SHANGHAI))
    service = AlertService(store_factory(), config, clock=clock, channels={})
    alert_id = service.ingest(scored("网传某镇干部违规发放补贴", at=clock.now(), level=2, story="r2"))
    hour, minute = map(int, raised_at.split(":"))
    clock.set(datetime(2026, 11, 27, hour, minute, tzinfo=SHANGHAI))
    service.escalate(alert_id, OFFICE, "多名村民实名举报", level=3)
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert deadline.due_at.astimezone(SHANGHAI).strftime("%H:%M") == due


# ---- a running clock is urgent whatever the level ----------------------------------------------


def test_an_office_warned_at_night_hears_at_once_while_its_verification_clock_runs(store_factory, smtp):
    clock = ManualClock(datetime(2026, 11, 27, 23, 0, tzinfo=SHANGHAI))
    config = mail_config(smtp, notify={"quiet_hours": {"start": "22:00", "end": "07:30", "max_level": 2}})
    service = AlertService(store_factory(), config, clock=clock)
    alert_id = service.ingest(scored("网传某村干部截留补偿款", at=clock.now(), level=2, story="n1"))
    service.tick()
    assert subjects(smtp, "xcb@") == []                # a 较大 item without a clock may wait for morning
    service.judge(alert_id, OFFICE, "需核实")
    service.warn(alert_id, OFFICE, ["信访室"], "请核实", timedelta(minutes=3))
    service.tick()
    assert [s[:10] for s in subjects(smtp, "xfs@")] == ["【舆情预警·请核实】"]
    clock.advance(minutes=4)
    service.tick()
    assert [s[:6] for s in subjects(smtp, "xfs@")] == ["【舆情预警·", "【超时未办·"]


def test_an_item_of_overall_effect_is_urgent_at_every_level(store_factory, smtp):
    clock = ManualClock(datetime(2026, 11, 27, 23, 0, tzinfo=SHANGHAI))
    config = mail_config(smtp, notify={"quiet_hours": {"start": "22:00", "end": "07:30", "max_level": 2}})
    service = AlertService(store_factory(), config, clock=clock)
    service.ingest(scored("县纪委干部被指泄露举报人信息", at=clock.now(), level=2, story="n2",
                          rules=("针对纪检监察机关的指控",)))   # the default routing: 可能影响全局
    service.tick()
    (opened,) = subjects(smtp, "xcb@")
    assert opened.startswith("【较大舆情】")


# ---- words -------------------------------------------------------------------------------------


def test_a_reminder_fired_a_few_seconds_late_counts_the_minutes_a_reader_expects(store_factory, smtp):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), mail_config(smtp, clocks={"reminders": ["2m"]}), clock=clock)
    service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="t1"))
    clock.set(NINE + timedelta(minutes=58, seconds=3))   # the ticker's beat: 3 s after the reminder's time
    service.tick()
    assert "还剩2分钟" in subjects(smtp, "xcb@")[-1]
    assert time_left(NINE + timedelta(hours=1), NINE + timedelta(seconds=20)) == "剩1小时"
    assert time_left(NINE, NINE + timedelta(minutes=65, seconds=40)) == "超时1小时6分"


def test_a_raise_gives_only_reasons_the_alert_did_not_have(store_factory, smtp):
    config = mail_config(smtp, routing=[{"name": "群体性事件为较大", "when": {"rules_any": ["群体性事件"]},
                                         "raise_to": 2}])
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), config, clock=clock)
    alert_id = service.ingest(scored("某村村民聚集", at=clock.now(), level=1, story="t2"))
    service.ingest(scored("某村村民聚集，围堵村委会", at=clock.now(), level=1, story="t2", source="forum-1",
                          rules=("群体性事件",)))
    reasons = service.show(alert_id, SYSTEM).alert.level_reasons
    assert len(reasons) == len(set(reasons)) and reasons.count("模型判定:一般") == 1
    service.tick()
    assert "由一般升为较大：规则:群体性事件；路由:群体性事件为较大→较大\n" in body_of(smtp, "【升级为较大】")
