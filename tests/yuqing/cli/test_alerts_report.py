"""The alert workflow from the command line, on the embedded default: what an operator types."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

from alerting.testing import scored
from yuqing.cli.main import main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["--data-dir", "data", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_story_is_worked_through_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    now = datetime.now(timezone.utc)
    articles = tmp_path / "scored.jsonl"
    articles.write_text("\n".join([
        scored("网友实名举报某镇干部吃拿卡要", at=now, story="c1").model_dump_json(),
        "{not json",
        scored("某村低保优亲厚友", at=now, level=1, story="c2").model_dump_json(),
    ]) + "\n", encoding="utf-8")

    code, out, _ = run(capsys, "alerts", "ingest", "--input", str(articles))
    assert code == 1 and "2 alerts" in out and f"{articles}:2: not a scored article" in out
    code, out, _ = run(capsys, "alerts", "list", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert [a["level"] for a in listed] == [3, 1] and listed[0]["deadline"]
    major = listed[0]["id"]

    code, _, err = run(capsys, "alerts", "advance", major, "--to", "closed")
    assert code == 2 and "cannot go to 'closed' directly; next: judged, dismissed" in err
    code, _, err = run(capsys, "alerts", "assign", major, "--to", "宣传科")
    assert code == 2 and "'宣传科' is not an office" in err

    assert run(capsys, "alerts", "judge", major, "--note", "属实可能性大")[0] == 0
    code, out, _ = run(capsys, "alerts", "warn", major, "--office", "信访室", "--within", "45m")
    task = out.split("verification tasks ")[1].strip()
    code, out, _ = run(capsys, "alerts", "list", "--user", "李强", "--user-office", "信访室", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [major]
    assert run(capsys, "alerts", "task-done", task, "--result", "已核实", "--user", "李强",
               "--user-office", "信访室")[0] == 0
    assert run(capsys, "consult", major, "--task", "准备回应口径|宣传部|王敏|45m")[0] == 0
    code, out, _ = run(capsys, "alerts", "report", major)
    assert "市纪委监委宣传部、县委、县委宣传部" in out
    code, out, _ = run(capsys, "alerts", "show", major)
    assert "状态 核实中" in out and "上报 县委" in out and "会商任务" in out

    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "7 entries checked, chain intact" in out

    db = sqlite3.connect("data/yuqing.sqlite3")
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET actor = '某人' WHERE seq = 3")
    db.commit()
    db.close()
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 1 and "audit_log seq 3: content changed after it was written" in out


def test_the_leader_approves_a_briefing_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "data" / "briefings"
    folder.mkdir(parents=True)
    (folder / "舆情日报-2026-11-26.html").write_text("<p>日报</p>", encoding="utf-8")
    (folder / "舆情日报-2026-11-26.pdf").write_bytes(b"%PDF-1.7 test")

    code, _, err = run(capsys, "report", "approve", "舆情日报-2026-11-26", "--user", "王敏")
    assert code == 2 and "王敏 may not approve a briefing: that is for the leading group" in err
    code, _, err = run(capsys, "report", "approve", "舆情日报-2026-11-25", "--user", "陈组长", "--role", "leader")
    assert code == 2 and "no briefing '舆情日报-2026-11-25'" in err
    code, out, _ = run(capsys, "report", "approve", "舆情日报-2026-11-26", "--user", "陈组长", "--role", "leader",
                       "--note", "同意印发")
    assert code == 0 and out.startswith("舆情日报-2026-11-26: 已批准 (approved) by 陈组长 at ") and "同意印发" in out
    code, _, err = run(capsys, "report", "return", "舆情日报-2026-11-26", "--user", "陈组长", "--role", "leader",
                       "--note", "重写")
    assert code == 2 and "already approved" in err

    code, out, _ = run(capsys, "audit", "log", "--json")
    (entry,) = [json.loads(line) for line in out.splitlines()]
    assert (entry["actor"], entry["action"], entry["after"]["briefing"]) == ("陈组长", "briefing_approve",
                                                                              "舆情日报-2026-11-26")
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "1 entries checked, chain intact" in out
