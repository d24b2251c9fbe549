"""Reporting upward, receipts and handling from the command line (embedded store and PostgreSQL),
as the accounts logged in with ``yuqing login``."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest

from alerting.testing import scored
from yuqing.cli.main import main

PASSWORD = "a long secret 1"


def run(capsys, monkeypatch, *argv, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--data-dir", "data", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch, store_url):
    """``cli(*argv)`` runs yuqing; ``cli.login(name)`` logs in as 宣传部's wangmin, 案管室's zhaogang
    or the 组长 chen. One 重大 item that may affect the overall situation is open: ``cli.alert``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_STORE_URL", store_url)
    monkeypatch.setenv("YUQING_CREDENTIALS", str(tmp_path / "home" / "credentials.json"))

    def call(*argv, stdin=None):
        return run(capsys, monkeypatch, *argv, stdin=stdin)

    for name, office, role in (("wangmin", "宣传部", "staff"), ("zhaogang", "案管室", "staff"),
                               ("chen", "", "leader")):
        args = ["users", "add", name, "--role", role, "--password-stdin"] + (["--office", office] if office else [])
        assert call(*args, stdin=PASSWORD + "\n")[0] == 0

    def login(name):
        code, out, err = call("login", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert code == 0, out + err

    articles = tmp_path / "scored.jsonl"
    articles.write_text(scored("网传县纪委干部收受红包，视频扩散", at=datetime.now(timezone.utc), story="cli-u1")
                        .model_dump_json() + "\n", encoding="utf-8")
    assert call("alerts", "ingest", "--input", str(articles))[0] == 0
    login("wangmin")
    (alert,) = [json.loads(line)["id"] for line in call("alerts", "list", "--json")[1].splitlines()]
    assert call("alerts", "judge", alert, "--note", "可能影响全局", "--overall")[0] == 0
    call.login, call.alert = login, alert
    return call


def test_report_takes_units_of_the_directory_only_and_goes_level_by_level(cli):
    code, _, err = cli("alerts", "report", cli.alert, "--to", "张三")
    assert code == 2 and "'张三' is not in the directory" in err
    assert "市纪委监委宣传部、省纪委监委宣传部、中央纪委国家监委宣传部、县委、县委宣传部" in err

    code, _, err = cli("alerts", "report", cli.alert, "--to", "中央纪委国家监委宣传部")
    assert code == 2 and "逐级上报" in err and "--skip-reason" in err
    code, _, err = cli("alerts", "report", cli.alert, "--to", "中央纪委国家监委宣传部", "--skip-reason", "紧急")
    assert code == 2 and "组长" in err                 # a staff account may not skip

    code, out, _ = cli("alerts", "report", cli.alert, "--to", "市纪委监委宣传部", "--to", "县委",
                       "--note", "电话报告并报送书面材料")
    assert code == 0 and "reported to 市纪委监委宣传部、县委" in out and "alerts receipt" in out
    cli.login("chen")
    code, out, _ = cli("alerts", "report", cli.alert, "--to", "中央纪委国家监委宣传部",
                       "--skip-reason", "中央督办，直报")
    assert code == 0 and "中央纪委国家监委宣传部" in out

    code, out, _ = cli("alerts", "show", cli.alert, "--json")
    reports = {r["unit"]: r for r in json.loads(out)["reports"]}
    assert reports["中央纪委国家监委宣传部"]["skip_reason"] == "中央督办，直报"
    assert reports["市纪委监委宣传部"]["skip_reason"] is None


def test_a_receipt_is_recorded_and_shown(cli):
    assert cli("alerts", "report", cli.alert, "--to", "市纪委监委宣传部")[0] == 0
    with pytest.raises(SystemExit) as usage:
        cli("alerts", "receipt", cli.alert, "--unit", "市纪委监委宣传部", "--by", "刘科长", "--via", "微信")
    assert usage.value.code == 2
    code, out, _ = cli("alerts", "receipt", cli.alert, "--unit", "市纪委监委宣传部", "--by", "刘科长",
                       "--via", "电话")
    assert code == 0 and "回执已登记（刘科长，电话）" in out
    code, _, err = cli("alerts", "receipt", cli.alert, "--unit", "县委", "--by", "某", "--via", "传真")
    assert code == 2 and "not reported to 县委" in err
    out = cli("alerts", "show", cli.alert)[1]
    assert "上报 市纪委监委宣传部" in out and "回执 刘科长（电话）" in out


def test_handling_is_recorded_and_a_clue_reaches_the_receiving_office(cli):
    code, out, _ = cli("alerts", "handle", cli.alert, "--kind", "辟谣", "--text", "视频系旧闻，已发布说明",
                       "--link", "https://www.hclz.gov.cn/news/1201.html")
    assert code == 0 and "辟谣：视频系旧闻，已发布说明（https://www.hclz.gov.cn/news/1201.html）" in out
    code, _, err = cli("alerts", "handle", cli.alert, "--kind", "协同", "--text", "核查", "--partner", "张三")
    assert code == 2 and "上级纪委、公安、检察院、法院、律师协会、网信办" in err
    assert cli("alerts", "handle", cli.alert, "--kind", "协同", "--text", "请公安核查视频来源",
               "--partner", "公安")[0] == 0
    code, out, _ = cli("alerts", "handle", cli.alert, "--kind", "线索移交", "--text", "所涉干部问题线索",
                       "--office", "案管室")
    assert code == 0 and "线索移交案管室：所涉干部问题线索（任务#" in out

    handlings = json.loads(cli("alerts", "show", cli.alert, "--json")[1])["handlings"]
    assert [(h["kind"], h["by"]) for h in handlings] == [("辟谣", "wangmin"),
                                                          ("协同", "wangmin"), ("线索移交", "wangmin")]
    task = handlings[2]["task"]
    cli.login("zhaogang")                               # 案管室 sees the clue and signs for it
    assert cli.alert in cli("alerts", "list")[1]
    code, out, _ = cli("alerts", "task-done", str(task), "--result", "已签收并登记")
    assert code == 0
    out = cli("alerts", "show", cli.alert)[1]
    assert f"线索签收#{task}" in out and "按时完成" in out


def test_report_special_writes_the_docx_and_pdf_with_sources_by_name(cli, tmp_path):
    from docx import Document

    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - id: weibo-huichang\n    name: 微博 会昌发布\n    type: rss\n"
                       "    url: https://weibo.example/huichang.xml\n", encoding="utf-8")
    assert cli("alerts", "handle", cli.alert, "--kind", "澄清", "--text", "县纪委监委已作情况说明")[0] == 0
    code, out, _ = cli("report", "special", cli.alert, "--out", "out", "--next", "联系首发账号")
    docx, pdf = (tmp_path / line for line in out.split())
    assert code == 0 and docx.name == f"舆情专报-{cli.alert}-首报.docx" and pdf.read_bytes().startswith(b"%PDF")
    text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    assert "微博 会昌发布" in text and "澄清：县纪委监委已作情况说明" in text and "联系首发账号" in text

    code, _, err = cli("report", "special", cli.alert, "--kind", "结报", "--out", "out")
    assert code == 2 and "结报 follows 办结" in err
    code, out, _ = cli("report", "special", cli.alert, "--kind", "续报", "--out", "out")
    assert code == 0 and f"舆情专报-{cli.alert}-续报1.docx" in out
    cli.login("zhaogang")                               # another office: not theirs to see
    code, _, err = cli("report", "special", cli.alert, "--kind", "续报", "--out", "out")
    assert code == 2 and "no alert" in err
    cli.login("wangmin")
    shown = cli("alerts", "show", cli.alert)[1]
    assert shown.count("制发专报") == 2                  # each document made is in the audit trail
