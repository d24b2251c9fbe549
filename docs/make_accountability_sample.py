"""Make the sample 迟报漏报情况 in docs/accountability-sample/ from the demo data.

    .venv/bin/python docs/make_accountability_sample.py

Runs ``yuqing demo`` into a temporary data directory, with a duty roster of invented people, then
works through the alerts as an office that is not always on time, under a clock this script
moves: the 重大 item's one-hour report is made twenty minutes late, a verification is answered
late, a consultation task is left undone, and the 组长 exempts one report with a reason. The
accountability report for the month is then written as HTML, PDF, Excel and a PNG of page 1.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from alerting.access import SYSTEM, Actor
from alerting.accountability import gather, write_accountability
from alerting.briefing.render import render_png_page1
from alerting.clock import ManualClock
from alerting.reports import period
from alerting.workflow import TaskSpec
from pipeline.config import load_settings
from pipeline.records import SHANGHAI
from yuqing.app import open_service
from yuqing.cli.main import main

OUT = Path(__file__).with_name("accountability-sample")
OFFICE, PETITIONS, LEADER = Actor("王敏", "宣传部"), Actor("李强", "信访室"), Actor("陈组长", role="leader")
#: invented people and a roster that changes at midnight, so one duty changes hands before it falls due
ROSTER = {
    "people": [{"name": "王敏", "office": "宣传部"}, {"name": "赵敏", "office": "宣传部"},
               {"name": "孙立", "office": "宣传部", "head": True}, {"name": "李强", "office": "信访室", "head": True},
               {"name": "刘洋", "office": "监督检查室", "head": True}],
}


def roster_for(today) -> dict:
    return {**ROSTER, "duty": [
        {"office": "宣传部", "person": "王敏", "from": str(today - timedelta(days=7)), "to": str(today)},
        {"office": "宣传部", "person": "赵敏", "from": str(today + timedelta(days=1)),
         "to": str(today + timedelta(days=7))}]}


def work_through(service, clock) -> None:
    alerts = service.list(SYSTEM)
    major = next(a for a in alerts if a.level == 3)
    service.judge(major.id, OFFICE, "实名举报内容具体，需立即核实")
    (verify,) = service.warn(major.id, OFFICE, ["信访室"], "请核实举报人反映的情况", timedelta(minutes=30))
    service.consult(major.id, OFFICE, [TaskSpec("核查车辆使用登记", "监督检查室", "刘洋", timedelta(minutes=45))])
    clock.advance(minutes=50)
    service.tick(deliver=False)                     # the verification and the task run late
    service.complete_task(verify, PETITIONS, "经核实，反映情况基本属实")
    clock.advance(minutes=30)
    service.tick(deliver=False)                     # the hour passes: escalated to the 组长
    service.report(major.id, OFFICE, note="电话报告并报送书面材料")   # twenty minutes late
    others = [a for a in alerts if a.level >= 2 and a.id != major.id]
    if others:
        service.escalate(others[0].id, OFFICE, "转发量上升", level=3)
        clock.advance(hours=1, minutes=5)
        service.tick(deliver=False)
        service.exempt(others[0].id, LEADER, "major", "市纪委已电话掌握情况，免于书面报告")


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="yuqing-accountability-"))
    try:
        today = datetime.now(SHANGHAI).date()
        alerting_file = work / "alerting.yaml"
        alerting_file.write_text(yaml.safe_dump(roster_for(today), allow_unicode=True), encoding="utf-8")
        settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(work),
                                                          ("alerting", "file"): str(alerting_file)})
        if main(["--data-dir", str(work), "demo"]) != 0:
            sys.exit("the demo failed; see above")
        clock = ManualClock(datetime.now(timezone.utc))
        service = open_service(settings, clock=clock)
        work_through(service, clock)
        start, end, _, _ = period("range", start=today.replace(day=1), end=today + timedelta(days=1))
        data = gather(service.store, service.config, start, end, clock.now())
        service.store.close()
        if OUT.exists():
            shutil.rmtree(OUT)
        written = write_accountability(data, OUT)
        for path in (written.html, written.pdf, written.xlsx):
            path.rename(OUT / ("accountability" + path.suffix))
        render_png_page1(OUT / "accountability.pdf", OUT / "accountability.png")
        print(f"wrote {OUT}/accountability.html, .pdf, .xlsx, .png ({len(data.lapses)} lapses)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
