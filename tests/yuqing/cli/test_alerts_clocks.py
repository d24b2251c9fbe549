"""Deadlines from the command line, on the embedded store and on PostgreSQL: a missed report stays
listed, with how late, until it is made; states in Chinese; ``ingest`` counts every alert."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from alerting.testing import scored
from yuqing.cli.main import main


@pytest.fixture
def run(tmp_path, monkeypatch, capsys, store_url):
    """The command line on the store, logged in as a staff member of the coordinating office."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_STORE_URL", store_url)
    monkeypatch.setenv("YUQING_CREDENTIALS", str(tmp_path / "credentials.json"))

    def run(*argv, stdin: str | None = None) -> tuple[int, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--data-dir", "data", *argv])
        return code, capsys.readouterr().out

    assert run("users", "add", "wangmin", "--role", "staff", "--office", "宣传部", "--password-stdin",
               stdin="a long secret 1\n")[0] == 0
    assert run("login", "wangmin", "--password-stdin", stdin="a long secret 1\n")[0] == 0
    return run


def write(path, articles) -> str:
    path.write_text("".join(a.model_dump_json() + "\n" for a in articles), encoding="utf-8")
    return str(path)


def test_a_missed_report_stays_listed_with_how_late_until_it_is_made(run, tmp_path):
    now = datetime.now(timezone.utc)
    # found two hours ago: its hour ran out an hour ago (the real clock; the margin is an hour)
    source = write(tmp_path / "scored.jsonl", [
        scored("网友实名举报某镇干部吃拿卡要", at=now - timedelta(hours=2), story="c1"),
        scored("某村低保优亲厚友", at=now, level=1, story="c2")])
    assert run("alerts", "ingest", "--input", source)[0] == 0
    code, out = run("alerts", "tick")
    assert "escalations 1" in out
    late = r"超时1小时(\d+分)?"

    code, out = run("alerts", "list", "--all")
    major = out.splitlines()[0].split()[0]
    assert re.search("1小时上报" + late, out.splitlines()[0])
    code, out = run("alerts", "list", "--json")
    listed = json.loads(out.splitlines()[0])
    assert (listed["deadline_label"], listed["deadline_status"], listed["overdue"]) == ("1小时上报", "missed", True)
    code, out = run("alerts", "deadlines")
    (line,) = out.splitlines()
    assert re.search(late + r"（已超时，已报组长）\s+1小时上报", line) and major in line
    code, out = run("alerts", "show", major)
    assert re.search(r"时限 1小时上报  \S+ \S+  " + late + "（已超时，已报组长）", out)
    assert not re.search(r"\b(open|met|missed|void|pending|done)\b", out)

    run("alerts", "report", major)
    code, out = run("alerts", "deadlines")
    assert out.strip() == "no deadlines running or missed"
    code, out = run("alerts", "show", major)
    assert re.search(r"时限 1小时上报  \S+ \S+  已超时 \S+ \S+", out)   # made late, and when


def test_ingest_counts_the_volume_alerts_the_articles_opened_too(run, tmp_path):
    now = datetime.now(timezone.utc)
    source = write(tmp_path / "spike.jsonl", [
        scored(f"会昌某镇干部被指违规操办宴席{n}", at=now, level=2, story=f"v{n}", source=f"forum-{n}")
        for n in range(6)])
    code, out = run("alerts", "ingest", "--input", source)
    code, listed = run("alerts", "list", "--all", "--json")
    total = len(listed.splitlines())
    assert total > 6                                 # the six stories and the spike of 会昌
    assert out.strip() == f"{total} alerts from {source}: {total} opened, 0 already open"
    code, out = run("alerts", "ingest", "--input", source)      # again: nothing new
    assert out.strip() == f"{total} alerts from {source}: 0 opened, {total} already open"
    one = write(tmp_path / "one.jsonl", [scored("某局干部上班时间打牌", at=now, level=1, story="o1")])
    assert run("alerts", "ingest", "--input", one)[1].strip() == f"1 alert from {one}: 1 opened, 0 already open"
