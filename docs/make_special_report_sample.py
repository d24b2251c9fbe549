"""Make the sample 舆情专报 in docs/special-report-sample/ from the demo data.

    .venv/bin/python docs/make_special_report_sample.py

Runs ``yuqing demo`` into a temporary data directory (the demo web crawled by the real crawler,
classified, indexed, alerted), then works the 重大 item through as the office would, under a clock
this script moves: judged as possibly affecting the overall situation, warned to 信访室 and
verified, the 首报 made and reported to 市纪委监委宣传部 and 县委 with 县委宣传部 notified, each receipt
confirmed, then 省 and 中央 level by level; a 回应 published, 公安 asked to help (协同), a clue handed
to 监督检查室. The 续报 that follows is written as special-report.docx and .pdf, with a PNG of page 1
of each: special-report.png from our PDF, special-report-docx.png from the DOCX as Word-compatible
software lays it out (LibreOffice, ``soffice --headless``, when installed: it is not a dependency of
yuqing, only of this sample). The people and the duty roster (the 联系人) are an alerting.yaml
written here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from alerting.access import SYSTEM, Actor
from alerting.briefing import render_png_page1
from alerting.clock import ManualClock
from crawlers.sources import load_sources
from pipeline.config import load_settings
from pipeline.records import SHANGHAI
from yuqing.app import open_service
from yuqing.cli.main import main

OUT = Path(__file__).with_name("special-report-sample")
OFFICE, PETITIONS, LEADER = Actor("王敏", "宣传部"), Actor("李强", "信访室"), Actor("陈组长", role="leader")
SUPERVISION = Actor("刘洋", "监督检查室")


def alerting_yaml(today) -> str:
    return f"""people:
  - {{name: 王敏, office: 宣传部, title: 副主任, phone: 0797-5620001}}
  - {{name: 孙立, office: 宣传部, title: 主任, head: true, phone: 0797-5620000}}
  - {{name: 李强, office: 信访室, title: 主任, head: true}}
duty:
  - {{office: 宣传部, person: 王敏, from: {today - timedelta(days=3)}, to: {today + timedelta(days=3)}}}
"""


def work_through(service, clock, drafts: Path, names: dict[str, str]):
    major = next(a for a in service.list(SYSTEM) if a.level == 3)
    service.judge(major.id, OFFICE, "实名举报内容具体、指向纪检监察干部，网民关注度上升，可能影响全局", overall=True)
    (task,) = service.warn(major.id, OFFICE, ["信访室"], "请核实举报人反映的情况", timedelta(minutes=40))
    service.special_report(major.id, OFFICE, "首报", drafts, names)
    clock.advance(minutes=15)
    service.report(major.id, OFFICE, ["市纪委监委宣传部", "县委", "县委宣传部"], "电话报告并报送首报")
    clock.advance(minutes=5)
    for unit, by, via in (("市纪委监委宣传部", "刘科长", "电话"), ("县委", "县委办值班员", "电话"),
                          ("县委宣传部", "张干事", "传真")):
        service.confirm_receipt(major.id, OFFICE, unit, by, via)
    clock.advance(minutes=10)
    service.complete_task(task, PETITIONS, "经查来信登记，反映情况与网帖基本一致，已移交监督检查室")
    service.handle(major.id, OFFICE, "回应", "县纪委监委官方网站发布情况通报：已成立核查组，核查结果将及时公布",
                   link="https://www.hclz.gov.cn/xxgk/20261207.html")
    service.handle(major.id, OFFICE, "协同", "请县公安局核查首发账号身份，固定网帖证据", partner="公安")
    service.handle(major.id, OFFICE, "线索移交", "网帖所涉干部问题线索，请按程序处置", office="监督检查室")
    clock.advance(minutes=20)
    service.report(major.id, OFFICE, ["省纪委监委宣传部"], "机要报送")
    service.confirm_receipt(major.id, OFFICE, "省纪委监委宣传部", "省纪委宣传部值班室", "机要")
    service.report(major.id, OFFICE, ["中央纪委国家监委宣传部"], "机要报送")
    service.confirm_receipt(major.id, OFFICE, "中央纪委国家监委宣传部", "值班室", "机要")
    clue = next(t for t in service.show(major.id, OFFICE).tasks if t.kind == "clue")
    clock.advance(minutes=10)
    service.complete_task(clue.id, SUPERVISION, "已签收，纳入问题线索台账")
    service.deep_judge(major.id, OFFICE, "事实基本清楚，需持续回应关切")
    service.propose(major.id, OFFICE, "由监督检查室核查，核查结果经组长审定后公开发布")
    service.approve(major.id, LEADER, "同意")
    clock.advance(minutes=5)
    return service.special_report(major.id, OFFICE, "续报", drafts, names, [
        "监督检查室于3个工作日内完成核查，结果经组长审定后通过官方网站公开发布。",
        "宣传部24小时监测相关信息，重点关注首发平台和本地论坛的跟帖走势，有新情况及时续报。"])


def docx_page1(docx: Path, png: Path, work: Path) -> None:
    """Page 1 of ``docx`` as LibreOffice lays it out, or a note saying why there is none."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("no soffice on PATH: special-report-docx.png not made (apt install libreoffice-writer-nogui)")
        return
    out = work / "docx-pdf"
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx)],
                   check=True, capture_output=True, timeout=180)
    render_png_page1(out / f"{docx.stem}.pdf", png)
    print(f"wrote {png} (the DOCX laid out by LibreOffice)")


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="yuqing-special-"))
    try:
        if main(["--data-dir", str(work), "demo"]) != 0:
            sys.exit("the demo failed; see above")
        clock = ManualClock(datetime.now(timezone.utc))
        (work / "alerting.yaml").write_text(alerting_yaml(clock.now().astimezone(SHANGHAI).date()),
                                            encoding="utf-8")
        settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(work),
                                                          ("alerting", "file"): str(work / "alerting.yaml")})
        service = open_service(settings, clock=clock)
        names = load_sources(work / "demo-web" / "sources.yaml").names
        written = work_through(service, clock, work / "special-reports", names)
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir()
        shutil.copy(written.docx, OUT / "special-report.docx")
        shutil.copy(written.pdf, OUT / "special-report.pdf")
        render_png_page1(OUT / "special-report.pdf", OUT / "special-report.png")
        print(f"wrote {OUT}/special-report.docx, .pdf, .png")
        docx_page1(OUT / "special-report.docx", OUT / "special-report-docx.png", work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
