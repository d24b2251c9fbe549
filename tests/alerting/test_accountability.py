"""迟报漏报情况 (SQLite and PostgreSQL): a late or missed duty is listed under the office that owned
it when it fell due, with how late it was and what followed, from the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openpyxl import load_workbook

from alerting.access import Actor
from alerting.accountability import gather, write_accountability
from alerting.reports import period
from alerting.testing import NINE, scored
from alerting.workflow import TaskSpec
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")
PETITIONS = Actor("李强", "信访室")
LEADER = Actor("陈组长", role="leader")


def a_day_of_lapses(service, clock) -> dict[str, str]:
    late_report = service.ingest(scored("网传某镇纪委包庇违纪干部", at=clock.now(), story="a1"))
    never = service.ingest(scored("网传某纪委干部泄露举报人信息", at=clock.now(), story="a2"))
    on_time = service.ingest(scored("网传某局长公车私用", at=clock.now(), story="a3"))
    service.report(on_time, OFFICE)
    service.judge(late_report, OFFICE, "需核实")
    (verify,) = service.warn(late_report, OFFICE, ["信访室"])          # 1 hour for 信访室
    (task,) = service.consult(late_report, OFFICE, [TaskSpec("准备口径", "宣传部", "赵敏", timedelta(minutes=30))])
    clock.advance(minutes=75)
    service.tick()                                                   # three misses, escalated
    service.report(late_report, OFFICE)                              # 15 minutes late
    service.complete_task(verify, PETITIONS, "已核实")                # 15 minutes late
    service.exempt(never, LEADER, "major", "上级已掌握")
    return {"late_report": late_report, "never": never, "on_time": on_time, "task": str(task)}


def test_each_lapse_is_listed_under_the_office_that_owned_it(service, clock, tmp_path):
    ids = a_day_of_lapses(service, clock)
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    data = gather(service.store, service.config, start, end, clock.now())
    by_duty = {(lapse.alert_id, lapse.duty): lapse for lapse in data.lapses}
    assert ids["on_time"] not in {a for a, _ in by_duty}

    report = by_duty[(ids["late_report"], "1小时上报")]
    assert (report.office, report.outcome, report.late) == ("宣传部", "逾期完成", timedelta(minutes=15))
    assert any("超时，报组长" in f for f in report.followed) and any("补报" in f for f in report.followed)
    assert len(report.entries) == 2

    verification = next(l for (a, d), l in by_duty.items() if a == ids["late_report"] and d.startswith("核实"))
    assert verification.office == "信访室"             # not the alert's office
    consult = next(l for (a, d), l in by_duty.items() if d.startswith("会商任务"))
    assert (consult.office, consult.person, consult.outcome) == ("宣传部", "赵敏", "未完成")

    never = by_duty[(ids["never"], "1小时上报")]
    assert never.outcome == "免于上报" and never.exempted == "陈组长：上级已掌握"

    rows = {(r.office, r.person): (r.late, r.undone) for r in data.by_office}
    assert rows[("信访室", "")] == (1, 0) and rows[("宣传部", "赵敏")] == (0, 1)

    written = write_accountability(data, tmp_path)
    html = written.html.read_text(encoding="utf-8")
    assert "迟报漏报情况" in html and "信访室" in html and "上级已掌握" in html
    assert written.pdf.read_bytes().startswith(b"%PDF") and written.pdf.stat().st_size > 5_000
    sheet = load_workbook(written.xlsx).active
    assert sheet.max_row == len(data.lapses) + 1 and sheet["D1"].value == "责任部门"


def test_a_period_without_lapses_says_so(service, clock, tmp_path):
    alert_id = service.ingest(scored("网传某局长公车私用", at=clock.now(), story="a4"))
    service.report(alert_id, OFFICE)
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    data = gather(service.store, service.config, start, end, clock.now())
    assert data.lapses == []
    assert "无迟报漏报情况" in write_accountability(data, tmp_path).html.read_text(encoding="utf-8")


def _end_the_clock(service, alert_id: str, how: str) -> None:
    if how == "exempted":
        service.exempt(alert_id, LEADER, "major", "已电话口头报告")
    elif how == "lowered":
        service.judge(alert_id, OFFICE, "研判为较大", level=2)
    else:
        service.dismiss(alert_id, LEADER, "误报")


@pytest.mark.parametrize("how", ["exempted", "lowered", "dismissed"])
@pytest.mark.parametrize("ticker_ran_first", [True, False])
def test_an_overdue_report_stays_a_lapse_however_its_clock_ends(service, clock, how, ticker_ran_first):
    alert_id = service.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="late"))
    clock.advance(hours=1, minutes=20)        # 20 minutes past the 1-hour report; the ticker was down
    if ticker_ran_first:
        service.tick()
    _end_the_clock(service, alert_id, how)
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    (lapse,) = gather(service.store, service.config, start, end, clock.now()).lapses
    assert (lapse.alert_id, lapse.duty, lapse.office) == (alert_id, "1小时上报", "宣传部")
    assert any("超时，报组长" in f for f in lapse.followed)   # the 组长 was told, as the ticker tells


@pytest.mark.parametrize("how", ["exempted", "lowered", "dismissed"])
def test_a_report_not_yet_due_is_no_lapse_when_its_clock_ends(service, clock, how):
    alert_id = service.ingest(scored("多名群众围堵镇政府，与干部发生冲突", at=clock.now(), story="early"))
    clock.advance(minutes=40)
    _end_the_clock(service, alert_id, how)
    clock.advance(hours=2)
    service.tick()
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    assert gather(service.store, service.config, start, end, clock.now()).lapses == []


def test_a_title_from_the_web_that_looks_like_a_formula_stays_text_in_the_xlsx(service, clock, tmp_path):
    title = '=HYPERLINK("http://evil.example","网传某镇纪委包庇违纪干部")'
    service.ingest(scored(title, at=clock.now(), story="f1"))
    clock.advance(hours=2)
    service.tick()
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    written = write_accountability(gather(service.store, service.config, start, end, clock.now()), tmp_path)
    cell = load_workbook(written.xlsx).active["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (title, "s", True)


def test_a_note_pasted_from_word_with_control_characters_still_gives_the_xlsx(service, clock, tmp_path):
    # Word's Shift+Enter arrives as U+000B; openpyxl refused the whole sheet for it
    service.ingest(scored("网传某村低保被截留\x0b多人转发\x07", at=clock.now(), story="c1"))
    clock.advance(hours=2)
    service.tick()
    start, end, _, _ = period("daily", NINE.astimezone(SHANGHAI).date())
    written = write_accountability(gather(service.store, service.config, start, end, clock.now()), tmp_path)
    assert load_workbook(written.xlsx).active["B2"].value == "网传某村低保被截留\n多人转发"
