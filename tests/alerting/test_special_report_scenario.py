"""The scenario of the rules, on SQLite and PostgreSQL: a 重大 item arrives → 舆情专报 (首报) as DOCX
and PDF → reported level by level with receipts → handling recorded → 结报 → the weekly briefing
lists it with its handling, and its counts agree with its table."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

import pytest
from docx import Document

from alerting.access import Actor
from alerting.briefing import render_html
from alerting.config import AlertingConfig
from alerting.errors import Forbidden, IllegalTransition
from alerting.reports import gather, period
from alerting.service import AlertService
from alerting.testing import NINE, scored

OFFICE = Actor("王敏", "宣传部")
CASES = Actor("赵刚", "案管室")
PETITIONS = Actor("李强", "信访室")
LEADER = Actor("陈组长", role="leader")
NAMES = {"weibo-huichang": "会昌发布微博", "board-ganzhou": "赣州论坛", "news-jxnews": "大江网"}
TITLE = "网传县纪委干部收受红包视频，多个平台转发"


@pytest.fixture
def service(store_factory, clock):
    config = AlertingConfig.model_validate({
        "people": [{"name": "王敏", "office": "宣传部", "title": "副主任", "phone": "0797-5620001"},
                   {"name": "孙立", "office": "宣传部", "title": "主任", "head": True}],
        "duty": [{"office": "宣传部", "person": "王敏", "from": "2026-11-23", "to": "2026-11-29"}]})
    return AlertService(store_factory(), config, clock=clock, channels={})


def sections(path) -> dict[str, str]:
    """The DOCX's paragraphs under each heading (Heading 1), and the lines before the first."""
    found, current = {"": ""}, ""
    for paragraph in Document(str(path)).paragraphs:
        if paragraph.style.name == "Heading 1":
            current = paragraph.text
            found[current] = ""
        else:
            found[current] += paragraph.text + "\n"
    return found


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_a_major_item_is_reported_handled_closed_and_briefed_consistently(service, clock, tmp_path):
    alert_id = service.ingest(scored(TITLE, at=clock.now(), story="sc1", source="weibo-huichang",
                                     url="https://weibo.example/huichang/1"))
    for n, source in enumerate(("board-ganzhou", "board-ganzhou", "news-jxnews")):
        clock.advance(minutes=3)
        service.ingest(scored(f"{TITLE}（转{n}）", at=clock.now(), story="sc1", source=source))
    other = service.ingest(scored("某村干部优亲厚友", at=clock.now(), level=2, story="sc2"))
    service.judge(alert_id, OFFICE, "涉纪检监察干部，传播较快，可能影响全局", overall=True)

    # 首报, before any report: the sections hold the alert's facts
    first = service.special_report(alert_id, OFFICE, "首报", tmp_path, NAMES)
    doc = sections(first.docx)
    assert "舆情专报（首报）" in doc[""] and "报送单位：会昌县纪委监委" in doc[""]
    assert "报送：市纪委监委宣传部、省纪委监委宣传部、中央纪委国家监委宣传部、县委、县委宣传部" in doc[""]
    assert TITLE in doc["一、舆情概要"] and "重大舆情，可能影响全局" in doc["一、舆情概要"]
    spread = doc["二、传播情况"]
    assert "2026年11月27日09:00，会昌发布微博" in spread
    assert "赣州论坛（2篇）" in spread and "大江网（1篇）" in spread and "会昌发布微博（1篇）" in spread
    assert "共监测到相关信息4篇，其中转载、跟帖3篇" in spread and "https://weibo.example/huichang/1" in spread
    assert "涉纪检监察干部，传播较快，可能影响全局" in doc["三、研判意见"]
    assert "尚无处置记录" in doc["四、已采取措施"]
    assert "尚需报送市纪委监委宣传部、县委、县委宣传部" in doc["五、下一步工作"]
    assert "联系人：王敏（宣传部副主任），电话 0797-5620001" in doc["五、下一步工作"]
    text = pdf_text(first.pdf)
    assert "舆情专报（首报）" in text and "一、舆情概要" in text and "赣州论坛" in text
    with pytest.raises(IllegalTransition, match="续报"):
        service.special_report(alert_id, OFFICE, "首报", tmp_path, NAMES)

    # reported level by level with receipts; skipping refused without the 组长's reason
    clock.advance(minutes=20)
    service.report(alert_id, OFFICE, ["市纪委监委宣传部", "县委", "县委宣传部"], "电话报告并报送首报")
    with pytest.raises(IllegalTransition, match="逐级上报"):
        service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部"])
    for unit, by, via in (("市纪委监委宣传部", "刘科长", "电话"), ("县委", "县委办值班员", "电话"),
                          ("县委宣传部", "张干事", "传真")):
        service.confirm_receipt(alert_id, OFFICE, unit, by, via)
    clock.advance(minutes=30)
    service.report(alert_id, OFFICE, ["省纪委监委宣传部"], "机要报送")
    service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部"], "机要报送")
    service.confirm_receipt(alert_id, OFFICE, "省纪委监委宣传部", "省委值班室", "机要")
    service.confirm_receipt(alert_id, OFFICE, "中央纪委国家监委宣传部", "值班室", "机要")
    clocks = {d.key: d.status for d in service.show(alert_id, OFFICE).deadlines if d.kind in ("major", "overall")}
    assert clocks == {"major": "met", "overall": "met"}

    # handling recorded; the clue is signed for by 案管室
    service.handle(alert_id, OFFICE, "辟谣", "县纪委监委官网发布说明：视频系2019年旧闻",
                   link="https://www.hclz.gov.cn/news/1127.html")
    service.handle(alert_id, OFFICE, "协同", "请县公安局核查首发账号", partner="公安")
    service.handle(alert_id, OFFICE, "线索移交", "视频所涉干部问题线索", office="案管室")
    clue = next(t for t in service.show(alert_id, OFFICE).tasks if t.kind == "clue")
    service.complete_task(clue.id, CASES, "已签收登记")
    with pytest.raises(Forbidden):                 # 案管室 sees the item now, but the 专报 is not theirs
        service.special_report(alert_id, CASES, "续报", tmp_path, NAMES)
    second = service.special_report(alert_id, OFFICE, "续报", tmp_path, NAMES)
    assert second.docx.name == f"舆情专报-{alert_id}-续报1.docx"
    assert "舆情专报（续报一）" in sections(second.docx)[""]

    # the workflow to 办结, then the 结报
    (task,) = service.warn(alert_id, OFFICE, ["信访室"], "请核实")
    service.complete_task(task, PETITIONS, "未收到相关信访件")
    service.deep_judge(alert_id, OFFICE, "视频系旧闻，已辟谣")
    service.propose(alert_id, OFFICE, "持续监测，结案")
    service.approve(alert_id, LEADER, "同意")
    with pytest.raises(IllegalTransition, match="办结"):
        service.special_report(alert_id, OFFICE, "结报", tmp_path, NAMES)
    service.close(alert_id, OFFICE, "辟谣后转发量回落，舆情平息")
    final = service.special_report(alert_id, OFFICE, "结报", tmp_path, NAMES)
    doc = sections(final.docx)
    measures = doc["四、已采取措施"]
    assert "报市纪委监委宣传部，刘科长于11月27日09:29以电话确认收到" in measures
    assert "报中央纪委国家监委宣传部，值班室" in measures
    assert "辟谣：县纪委监委官网发布说明：视频系2019年旧闻（https://www.hclz.gov.cn/news/1127.html）" in measures
    assert "协同公安：请县公安局核查首发账号" in measures and "线索移交案管室：视频所涉干部问题线索" in measures
    assert "向信访室发出预警" in measures and "未收到相关信访件" in measures
    assert "深度研判" in doc["三、研判意见"] and "同意" in doc["三、研判意见"]
    assert "本事项已办结：辟谣后转发量回落，舆情平息" in doc["五、下一步工作"]
    assert "辟谣" in pdf_text(final.pdf)
    made = [e.after for e in service.show(alert_id, OFFICE).history if e.action == "special_report"]
    assert [(m["special_kind"], m["number"]) for m in made] == [("首报", 0), ("续报", 1), ("结报", 0)]
    assert set(made[2]["files"]) == {final.docx.name, final.pdf.name}

    # the weekly briefing lists it with its handling, and its counts agree with its table
    start, end, prev_start, prev_end = period("weekly", date(2026, 11, 27))
    data = gather(service.store, service.config, "weekly", start, end, prev_start, prev_end,
                  clock.now() + timedelta(days=3))
    story = next(s for s in data.stories if s.alert_id == alert_id)
    assert story.handling[0].startswith("辟谣：县纪委监委官网发布说明") and len(story.handling) == 3
    assert other in [s.alert_id for s in data.stories]
    html = render_html(data)
    table = html.split('<table class="grid stories">')[1].split("</table>")[0]
    rows = table.split("<tbody>")[1].count("<tr>")
    stated = int(re.search(r"本期纳入重要舆情管理(\d+)起", html).group(1))
    assert rows == stated == len(data.stories) == 2
    assert "协同公安：请县公安局核查首发账号" in html


def test_a_note_pasted_from_word_still_gives_the_special_report(service, clock, tmp_path):
    # Word's Shift+Enter arrives as U+000B: python-docx refused to write the 专报 for it, while
    # the 1-hour clock ran
    alert_id = service.ingest(scored("网传县纪委干部收受红包视频\x08", at=clock.now(), story="sc9"))
    service.judge(alert_id, OFFICE, "涉纪检监察干部，传播较快。\x0b建议立即核实。")
    written = service.special_report(alert_id, OFFICE, "首报", tmp_path, NAMES)
    doc = sections(written.docx)
    assert "网传县纪委干部收受红包视频" in doc["一、舆情概要"]
    assert "传播较快。\n建议立即核实。" in doc["三、研判意见"]
