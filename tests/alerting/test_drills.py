"""A drill (演练) runs a marked alert through the workflow on the clock: labelled everywhere, its
upward reports recorded but sent to nobody above, left out of briefings and accountability, and
reported afterwards step by step with its late steps named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from alerting.access import Actor
from alerting.accountability import gather as lapses
from alerting.drills import DRILL_REPORT_NOTE, render_text
from alerting.errors import Forbidden
from alerting.reports import gather, period
from alerting.routing import LEVEL_NAMES
from alerting.testing import NINE, scored
from alerting.workflow import TaskSpec

OFFICE, PETITIONS, LEADER = Actor("王敏", "宣传部"), Actor("李强", "信访室"), Actor("陈组长", role="leader")


def run_drill(service, clock) -> str:
    """重大, started at 09:00: judged at 09:05, warned to 信访室 with 30 minutes to verify (done
    at 09:45, ten minutes late), reported at 10:10 (the hour missed by ten minutes), consulted,
    proposed, approved by the 组长 and closed."""
    drill = service.start_drill("网传某镇干部酒驾后找人顶包，视频在本地微信群扩散", 3, "宣传部", OFFICE)
    clock.advance(minutes=5)
    service.judge(drill, OFFICE, "演练：按重大处置")
    (task,) = service.warn(drill, OFFICE, ["信访室"], "请核实", timedelta(minutes=30))
    clock.advance(minutes=40)
    service.complete_task(task, PETITIONS, "经核实，情况属实")
    clock.advance(minutes=25)
    service.report(drill, OFFICE, note="电话报告")
    (reply,) = service.consult(drill, OFFICE, [TaskSpec("准备回应口径", "宣传部", "王敏", timedelta(minutes=30))])
    service.complete_task(reply, OFFICE, "口径已拟好")
    service.deep_judge(drill, OFFICE, "事实清楚")
    service.propose(drill, OFFICE, "发布情况说明")
    service.approve(drill, LEADER, "同意")
    clock.advance(minutes=10)
    service.close(drill, OFFICE, "演练结束")
    return drill


def test_the_drill_is_labelled_and_reaches_no_upward_unit(service, clock):
    drill = run_drill(service, clock)
    detail = service.show(drill, OFFICE)
    assert detail.alert.title.startswith("【演练】") and detail.alert.level == 3
    assert detail.reports and all(r.note.startswith(DRILL_REPORT_NOTE) for r in detail.reports)
    assert all("【演练】" in n.subject for n in detail.notifications)
    assert service.show(drill, OFFICE).history[1].action == "drill_start"


def test_the_drill_is_left_out_of_briefings_and_accountability(service, clock):
    real = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=NINE, story="real"))
    run_drill(service, clock)
    start, end, prev_start, prev_end = period("daily", date(2026, 11, 27))
    data = gather(service.store, service.config, "daily", start, end, prev_start, prev_end, clock.now())
    assert [s.alert_id for s in data.stories] == [real]
    assert data.relevant == 1 and {d.alert_id for d in data.deadlines} == {real}
    assert all(not lapse.title.startswith("【演练】")
               for lapse in lapses(service.store, service.config, start, end, clock.now() + timedelta(days=1)).lapses)


def test_the_drill_report_says_what_was_done_when_and_which_steps_were_late(service, clock):
    drill = run_drill(service, clock)
    report = service.drill_report(drill, OFFICE)
    actions = [s.action for s in report.steps]
    for done in ("开始演练", "初步研判", "发布预警", "完成任务", "上报", "即时会商", "审定处置意见", "办结"):
        assert done in actions, (done, actions)
    late = {d.label: d.late for d in report.late}
    assert late["1小时上报"] == timedelta(minutes=10)
    assert late["核实"] == timedelta(minutes=10)
    assert [d.label for d in report.deadlines if d.late is None] == ["会商任务"]   # the reply was ready in time
    text = render_text(report, LEVEL_NAMES)
    assert "# 演练报告：【演练】网传某镇干部酒驾后找人顶包" in text
    assert "超时10分钟" in text and "未向上级单位报送" in text


def test_only_the_coordinating_office_starts_a_drill_and_only_drills_have_reports(service, clock):
    with pytest.raises(Forbidden):
        service.start_drill("演练场景", 2, "信访室", PETITIONS)
    with pytest.raises(ValueError, match="describe the invented item"):
        service.start_drill("  ", 2, "信访室", OFFICE)
    real = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=NINE, story="real"))
    with pytest.raises(ValueError, match="is not a drill"):
        service.drill_report(real, OFFICE)
