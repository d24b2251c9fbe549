"""The alert workflow from the command line, on the embedded default: what an operator types, as
the account they logged in with (yuqing login), never a name they type."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from alerting.store.engine import sqlalchemy_url
from alerting.testing import scored
from pipeline.records import SHANGHAI
from pipeline.config import load_settings
from yuqing.cli.identity import may_override
from yuqing.cli.main import main

PASSWORD = "a long secret 1"


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--data-dir", "data", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def accounts(tmp_path, capsys, monkeypatch, store_url):
    """Console accounts of three offices and the 组长, on the embedded store and on PostgreSQL;
    ``accounts.login(name)`` logs in as one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_STORE_URL", store_url)
    monkeypatch.setenv("YUQING_CREDENTIALS", str(tmp_path / "home" / "credentials.json"))
    made = {"wangmin": ("宣传部", "staff"), "liqiang": ("信访室", "staff"), "chen": ("", "leader"),
            "fenxi": ("宣传部", "analyst")}
    for name, (office, role) in made.items():
        args = ["users", "add", name, "--role", role, "--password-stdin"] + (["--office", office] if office else [])
        assert run(capsys, *args, stdin=PASSWORD + "\n", monkeypatch=monkeypatch)[0] == 0

    class Accounts:
        @staticmethod
        def login(name: str) -> None:
            code, out, err = run(capsys, "login", name, "--password-stdin", stdin=PASSWORD + "\n",
                                 monkeypatch=monkeypatch)
            assert code == 0 and out.startswith(f"logged in as {name}"), out + err

    return Accounts()


def test_a_story_is_worked_through_from_the_command_line(tmp_path, capsys, monkeypatch, accounts):
    now = datetime.now(timezone.utc)
    articles = tmp_path / "scored.jsonl"
    articles.write_text("\n".join([
        scored("网友实名举报某镇干部吃拿卡要", at=now, story="c1").model_dump_json(),
        "{not json",
        scored("某村低保优亲厚友", at=now, level=1, story="c2").model_dump_json(),
    ]) + "\n", encoding="utf-8")

    code, out, _ = run(capsys, "alerts", "ingest", "--input", str(articles))
    assert code == 1 and "2 alerts" in out and f"{articles}:2: not a scored article" in out
    accounts.login("wangmin")
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

    accounts.login("liqiang")  # 信访室 sees what it was warned about, and may not judge
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [major]
    code, _, err = run(capsys, "alerts", "escalate", major, "--note", "升级", "--level", "3")
    assert code == 2 and "liqiang (信访室) may not" in err
    assert run(capsys, "alerts", "task-done", task, "--result", "已核实")[0] == 0

    accounts.login("wangmin")
    assert run(capsys, "consult", major, "--task", "准备回应口径|宣传部|王敏|45m")[0] == 0
    code, out, _ = run(capsys, "alerts", "report", major)
    assert "市纪委监委宣传部、县委、县委宣传部" in out
    code, out, _ = run(capsys, "alerts", "show", major)
    assert "状态 核实中" in out and "上报 县委" in out and "会商任务" in out

    code, out, _ = run(capsys, "audit", "log", "--alert", major, "--json")
    actors = {json.loads(line)["actor"] for line in out.splitlines()}
    assert actors == {"yuqing", "wangmin", "liqiang"}  # who logged in, not who they said they were

    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "entries checked, chain intact" in out

    tamper = create_engine(sqlalchemy_url(os.environ["YUQING_STORE_URL"]))
    with tamper.begin() as db:  # an insider with the database's password, triggers dropped first
        db.execute(text("DROP TRIGGER audit_log_no_update"
                        + (" ON audit_log" if tamper.dialect.name == "postgresql" else "")))
        db.execute(text("UPDATE audit_log SET actor = '某人' WHERE seq = 3"))
    tamper.dispose()
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 1 and "audit_log seq 3: content changed after it was written" in out


def test_no_workflow_command_runs_without_a_login(tmp_path, capsys, monkeypatch, accounts):
    run(capsys, "alerts", "ingest", "--input", str(write_one(tmp_path)))
    for argv in (["alerts", "list"], ["alerts", "judge", "Y0", "--note", "x"],
                 ["consult", "Y0", "--task", "核查|宣传部|王敏|45m"], ["report", "approve", "x"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "is not logged in" in err and "yuqing login NAME" in err, argv
    with pytest.raises(SystemExit) as refused:  # no self-declared identities any more
        run(capsys, "alerts", "list", "--user", "chen", "--role", "leader")
    assert refused.value.code == 2 and "unrecognized arguments: --user chen --role leader" in capsys.readouterr().err


def test_a_login_ends_with_logout_a_new_password_or_revocation(tmp_path, capsys, monkeypatch, accounts):
    accounts.login("wangmin")
    assert run(capsys, "whoami")[1].startswith("wangmin (宣传部")
    assert (tmp_path / "home" / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert run(capsys, "logout")[0] == 0
    assert run(capsys, "alerts", "list")[0] == 2

    accounts.login("wangmin")
    assert run(capsys, "users", "passwd", "wangmin", "--password-stdin", stdin="another secret 2\n",
               monkeypatch=monkeypatch)[0] == 0
    code, _, err = run(capsys, "alerts", "list")
    assert code == 2 and "has ended" in err

    accounts.login("liqiang")
    assert run(capsys, "users", "revoke", "liqiang")[1] == "user liqiang: 1 sessions ended\n"
    assert run(capsys, "alerts", "list")[0] == 2

    code, _, err = run(capsys, "login", "liqiang", "--password-stdin", stdin="wrong password!\n",
                       monkeypatch=monkeypatch)
    assert code == 2 and "用户名或密码错误" in err


def test_an_analyst_reads_but_does_not_act(tmp_path, capsys, monkeypatch, accounts):
    run(capsys, "alerts", "ingest", "--input", str(write_one(tmp_path)))
    accounts.login("fenxi")
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert code == 0
    major = json.loads(out.splitlines()[0])["id"]
    code, _, err = run(capsys, "alerts", "ack", major)
    assert code == 2 and "只能查看，不能办理预警" in err


def test_the_service_account_overrides_with_a_recorded_reason(tmp_path, capsys, monkeypatch, accounts):
    run(capsys, "alerts", "ingest", "--input", str(write_one(tmp_path)))
    code, _, err = run(capsys, "alerts", "list", "--override", "  ")
    assert code == 2 and "--override needs a reason" in err
    code, out, _ = run(capsys, "alerts", "list", "--json", "--override", "账户系统故障，值班员电话指示")
    assert code == 0
    major = json.loads(out.splitlines()[0])["id"]
    assert run(capsys, "alerts", "ack", major, "--override", "账户系统故障，值班员电话指示")[0] == 0
    code, out, _ = run(capsys, "audit", "log", "--json")
    overrides = [json.loads(line) for line in out.splitlines() if '"cli_override"' in line]
    assert len(overrides) == 2 and overrides[-1]["after"]["reason"] == "账户系统故障，值班员电话指示"
    assert "ack" in overrides[-1]["after"]["command"]

    if os.geteuid() != 0:
        pytest.skip("showing another OS user refused needs root to become that user (CI runs as root)")
    settings = load_settings(None, overrides={("paths", "data_dir"): str(tmp_path / "data")})
    assert "may not override: only the service account" in as_nobody(lambda: may_override(settings, "试试"))


def as_nobody(check) -> str:
    """Run ``check`` in a forked child that became the user nobody; what it raised, or 'allowed'."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no exec, so the interpreter it already has is all it needs
        try:
            os.setgid(65534)
            os.setuid(65534)
            check()
            said = "allowed"
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, whatever it is
            said = f"{type(exc).__name__}: {exc}"
        os.write(write, said.encode("utf-8"))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        said = answer.read().decode("utf-8")
    os.waitpid(pid, 0)
    return said


def write_one(tmp_path):
    articles = tmp_path / "one.jsonl"
    articles.write_text(scored("网友实名举报某镇干部吃拿卡要", at=datetime.now(timezone.utc), story="c1")
                        .model_dump_json() + "\n", encoding="utf-8")
    return articles


def test_the_leader_approves_a_briefing_from_the_command_line(tmp_path, capsys, monkeypatch, accounts):
    folder = tmp_path / "data" / "briefings"
    folder.mkdir(parents=True)
    (folder / "舆情日报-2026-11-26.html").write_text("<p>日报</p>", encoding="utf-8")
    (folder / "舆情日报-2026-11-26.pdf").write_bytes(b"%PDF-1.7 test")

    accounts.login("wangmin")
    code, _, err = run(capsys, "report", "approve", "舆情日报-2026-11-26")
    assert code == 2 and "wangmin may not approve a briefing: that is for the coordinating group" in err
    accounts.login("chen")
    code, _, err = run(capsys, "report", "approve", "舆情日报-2026-11-25")
    assert code == 2 and "no briefing '舆情日报-2026-11-25'" in err
    code, out, _ = run(capsys, "report", "approve", "舆情日报-2026-11-26", "--note", "同意印发")
    assert code == 0 and out.startswith("舆情日报-2026-11-26: 已批准 (approved) by chen at ") and "同意印发" in out
    code, _, err = run(capsys, "report", "return", "舆情日报-2026-11-26", "--note", "重写")
    assert code == 2 and "already approved" in err

    code, out, _ = run(capsys, "audit", "log", "--json")
    [entry] = [json.loads(line) for line in out.splitlines() if '"briefing_approve"' in line]
    assert (entry["actor"], entry["after"]["briefing"]) == ("chen", "舆情日报-2026-11-26")
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "chain intact" in out


def test_the_office_words_the_drafted_sections_and_the_leader_then_approves(tmp_path, capsys, monkeypatch, accounts):
    accounts.login("wangmin")
    assert run(capsys, "alerts", "ingest", "--input", str(write_one(tmp_path)))[0] == 0
    today = datetime.now(timezone.utc).astimezone(SHANGHAI).date()
    code, out, err = run(capsys, "report", "daily", "--date", today.isoformat())
    assert code == 0, err
    name = f"舆情日报-{today:%Y-%m-%d}"
    html = (tmp_path / "data" / "briefings" / f"{name}.html").read_text(encoding="utf-8")
    assert "七、预控处置意见" in html and "网友实名举报某镇干部吃拿卡要" in html.split("七、预控处置意见")[1]

    accounts.login("chen")
    assert run(capsys, "report", "return", name, "--note", "预控处置意见要写明责任部门")[0] == 0
    accounts.login("wangmin")
    code, out, err = run(capsys, "report", "edit", name, "--measures", "宣传部会同监督检查室核实，今日内报告核实结果。")
    assert code == 0 and "待审批" in out, err
    html = (tmp_path / "data" / "briefings" / f"{name}.html").read_text(encoding="utf-8")
    assert "宣传部会同监督检查室核实，今日内报告核实结果。" in html
    accounts.login("chen")
    code, out, _ = run(capsys, "report", "approve", name)
    assert code == 0 and "已批准" in out
    code, _, err = run(capsys, "report", "edit", "日报-昨天", "--measures", "x")
    assert code == 2 and "is not a briefing's name" in err


def test_the_accountability_report_is_for_the_leading_group(tmp_path, capsys, monkeypatch, accounts):
    accounts.login("wangmin")
    code, _, err = run(capsys, "report", "accountability", "--from", "2026-11-01", "--to", "2026-11-30")
    assert code == 2 and "may not read the accountability report" in err
    accounts.login("chen")
    code, out, _ = run(capsys, "report", "accountability", "--from", "2026-11-01", "--to", "2026-11-30")
    assert code == 0 and "0 late or missed duties" in out
    assert {p.suffix for p in (tmp_path / "data" / "briefings").glob("迟报漏报情况-2026-11-01至2026-11-30.*")} == \
        {".html", ".pdf", ".xlsx"}



def test_an_office_hands_in_what_it_found_and_classify_output_is_pointed_there(tmp_path, capsys, monkeypatch,
                                                                                accounts):
    accounts.login("liqiang")
    code, out, err = run(capsys, "alerts", "new", "--title", "群众来电反映某镇干部收受好处费",
                         "--text", "来电人称某镇副镇长在危房改造中收受好处费三万元，已向媒体反映。",
                         "--source", "群众来电", "--office", "信访室", "--level", "较大", "--reason", "来电人称已联系媒体")
    assert code == 0, err
    first, reasons = out.splitlines()[:2]
    assert "群众来电反映某镇干部收受好处费" in first and ("【较大】" in first or "【重大】" in first)
    assert "模型判定:" in reasons and "报送建议:信访室→较大（来电人称已联系媒体）" in reasons
    alert_id = first.split()[0]
    code, out, _ = run(capsys, "audit", "log", "--json")
    [entry] = [json.loads(line) for line in out.splitlines() if '"hand_in"' in line]
    assert (entry["actor"], entry["alert_id"], entry["after"]["proposed"]) == ("liqiang", alert_id, 2)

    code, _, err = run(capsys, "alerts", "new", "--title", "x", "--source", "群众来电", "--office", "信访室")
    assert code == 2 and "give --link URL or --text TEXT" in err
    code, _, err = run(capsys, "alerts", "new", "--title", "x", "--text", "y", "--source", "s", "--office", "案管室")
    assert code != 0 and "hand it in for your own office" in err

    scores = tmp_path / "scores.jsonl"
    scores.write_text('{"id": "1", "relevance": 0.9, "sensitivity": 0.8, "level": 3, "department": "信访室", '
                      '"explanation": [], "matched_rules": []}\n', encoding="utf-8")
    accounts.login("wangmin")
    code, out, _ = run(capsys, "alerts", "ingest", "--input", str(scores))
    assert code == 1 and "is `yuqing classify` output" in out and "yuqing alerts new" in out


def test_the_petition_office_records_a_call_linked_to_an_alert_or_handed_in(tmp_path, capsys, monkeypatch,
                                                                            accounts):
    accounts.login("liqiang")
    code, out, err = run(capsys, "alerts", "petition", "--channel", "来电", "--named", "--level", "较大",
                         "--summary", "来电人实名反映某村支书侵占集体山林私自转包，已多次反映无果")
    assert code == 0, err
    assert out.startswith("信访 #1 (来电) → Y") and ("【较大】" in out or "【重大】" in out)
    alert_id = out.split("→ ")[1].split()[0]
    code, out, err = run(capsys, "alerts", "petition", "--channel", "来信", "--alert", alert_id,
                         "--received", "2026-12-01T10:00", "--summary", "同一事项的来信")
    assert code == 0 and out.startswith(f"信访 #2 (来信) → {alert_id}"), err
    code, out, _ = run(capsys, "alerts", "show", alert_id, "--json")
    petitions = json.loads(out)["petitions"]
    assert [(p["channel"], p["named"]) for p in petitions] == [("来信", False), ("来电", True)]
    assert petitions[0]["received"].startswith("2026-12-01T02:00")     # 10:00 Beijing time
    code, out, _ = run(capsys, "alerts", "show", alert_id)
    assert "信访 #1 来电（实名）" in out and "信访登记" in out

    accounts.login("wangmin")   # the coordinating office may record for 信访室; another office may not
    assert run(capsys, "alerts", "petition", "--channel", "网上举报", "--alert", alert_id, "--summary", "x")[0] == 0
    code, _, err = run(capsys, "alerts", "petition", "--channel", "来访", "--summary", "   ")
    assert code != 0 and "say what the petition reports" in err


def test_a_drill_is_started_worked_with_the_usual_commands_and_reported(tmp_path, capsys, monkeypatch, accounts):
    accounts.login("liqiang")
    code, _, err = run(capsys, "drill", "start", "--scenario", "网传某镇干部酒驾顶包")
    assert code != 0 and "may not start a drill" in err
    accounts.login("wangmin")
    code, out, err = run(capsys, "drill", "start", "--scenario", "网传某镇干部酒驾顶包", "--level", "重大")
    assert code == 0, err
    drill = out.split()[0]
    assert "【演练】网传某镇干部酒驾顶包" in out and "1小时上报" in out
    assert run(capsys, "alerts", "judge", drill, "--note", "演练：按重大处置")[0] == 0
    code, out, err = run(capsys, "alerts", "report", drill, "--note", "电话报告")
    assert code == 0, err
    code, out, err = run(capsys, "drill", "report", drill)
    assert code == 0, err
    assert "# 演练报告：【演练】网传某镇干部酒驾顶包" in out
    assert "| 开始演练 |" in out and "| 初步研判 |" in out and "| 上报 |" in out and "未向上级单位报送" in out
    written = Path(out.strip().splitlines()[-1])              # relative to the data directory's parent
    assert written.suffix == ".md" and "未向上级单位报送" in written.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "report", "daily", "--date", datetime.now(timezone.utc).astimezone(SHANGHAI)
                       .date().isoformat())
    assert code == 0 and "演练" not in Path(out.splitlines()[0]).read_text(encoding="utf-8")
