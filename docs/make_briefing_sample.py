"""Make the sample briefing in docs/briefing-sample/ from the demo data.

    .venv/bin/python docs/make_briefing_sample.py

Runs ``yuqing demo`` into a temporary data directory (the demo web crawled by the real crawler,
classified, indexed, alerted), then works through the alerts as the office would, under a clock
this script moves: the 重大 item is judged, warned to 信访室, verified and reported within the hour;
a consultation task is left to run late and escalates; a TV-drama false alarm is dismissed. The
briefing for the demo's dates is then written as HTML, PDF and a PNG of page 1, its sources named
as in the demo's sources.yaml and its 预控处置意见 / 下一步工作 as drafted from what is left open.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from alerting.access import SYSTEM, Actor
from alerting.clock import ManualClock
from alerting.reports import gather, period, write_briefing
from alerting.workflow import TaskSpec
from crawlers.sources import load_sources
from pipeline.backends import open_index
from pipeline.config import load_settings
from pipeline.records import SHANGHAI
from yuqing.cli.main import main

OUT = Path(__file__).with_name("briefing-sample")
OFFICE, PETITIONS, LEADER = Actor("王敏", "宣传部"), Actor("李强", "信访室"), Actor("陈组长", role="leader")


def work_through(service, clock) -> None:
    alerts = service.list(SYSTEM)
    major = next(a for a in alerts if a.level == 3)
    service.judge(major.id, OFFICE, "实名举报内容具体，需立即核实")
    (task,) = service.warn(major.id, OFFICE, ["信访室"], "请核实举报人反映的公车使用情况", timedelta(minutes=40))
    clock.advance(minutes=25)
    service.complete_task(task, PETITIONS, "经查车辆使用登记，反映情况基本属实，已移交监督检查室")
    clock.advance(minutes=10)
    service.report(major.id, OFFICE, note="电话报告并报送书面材料")
    service.deep_judge(major.id, OFFICE, "事实基本清楚，需回应关切")
    service.propose(major.id, OFFICE, "由监督检查室立案核查，官方账号发布情况说明")
    service.approve(major.id, LEADER, "同意")

    petitions = [a for a in alerts if a.office == "信访室"]
    if petitions:
        service.consult(petitions[0].id, OFFICE, [
            TaskSpec("核查征地补偿款发放台账", "监督检查室", "刘洋", timedelta(hours=1)),
            TaskSpec("联系反映人了解诉求", "信访室", "李强", timedelta(hours=2))])
    cases = [a for a in alerts if a.office == "案管室"]
    if cases:
        service.judge(cases[0].id, Actor("赵刚", "宣传部"), "案件通报，按程序报送")
    clock.advance(hours=2)
    service.tick(deliver=False)


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="yuqing-briefing-"))
    try:
        if main(["--data-dir", str(work), "demo"]) != 0:
            sys.exit("the demo failed; see above")
        settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(work)})
        from yuqing.app import open_service

        clock = ManualClock(datetime.now(timezone.utc))
        service = open_service(settings, clock=clock)
        work_through(service, clock)
        today = clock.now().astimezone(SHANGHAI).date()
        start, end, prev_start, prev_end = period("range", start=today.replace(day=1), end=today)
        index = open_index(settings)
        try:
            names = load_sources(work / "demo-web" / "sources.yaml").names
            data = gather(service.store, service.config, "range", start, end, prev_start, prev_end,
                          clock.now(), index, source_names=names)
        finally:
            index.close()
        if OUT.exists():
            shutil.rmtree(OUT)
        written = write_briefing(data, OUT, png=True)
        for path in (written.html, written.pdf, written.png):
            path.rename(OUT / ("briefing" + path.suffix))
        print(f"wrote {OUT}/briefing.html, .pdf, .png")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
