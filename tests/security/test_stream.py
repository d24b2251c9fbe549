"""The stream against poison (issue 16, item 1): a record built to exhaust the decoder is
dead-lettered (tests/pipeline/test_runner.py), and here what is left: a thread of ``yuqing run``
that dies of something outside one record must not leave the process up and deaf. The real
command, on the embedded backends, with a real fault: the bus's log table taken away under it
(as an insider with database access, or a damaged file, would)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.bus import SCORED
from pipeline.errors import BackendUnavailable
from pipeline.flow import publish_articles
from pipeline.bus.local import LocalBus
from pipeline.records import Article


@pytest.fixture
def settings(tmp_path) -> Path:
    path = tmp_path / "yuqing.yaml"
    path.write_text(f"bus:\n  url: sqlite:///{tmp_path / 'bus.sqlite3'}\n"
                    f"paths:\n  data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    return path


def test_a_step_that_dies_outside_a_record_stops_yuqing_run_with_the_reason(settings, tmp_path,
                                                                           pytestconfig):
    bus = LocalBus(tmp_path / "bus.sqlite3")
    publish_articles(bus, [Article.create(source_id="county", url="https://www.example.gov.cn/1.html",
                                          title="某县纪委监委通报", content="某县纪委监委通报典型问题。")])
    bus.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(pytestconfig.rootpath), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "yuqing.cli.main", "--config", str(settings),
                                "run", "--no-crawl"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline().startswith("yuqing run:")
        watch = LocalBus(tmp_path / "bus.sqlite3")
        deadline = time.monotonic() + 90
        while not sum(watch.end_offsets(SCORED).values()) and time.monotonic() < deadline:
            time.sleep(0.2)  # until the stream is at work: the article scored
        watch.close()
        with sqlite3.connect(tmp_path / "bus.sqlite3") as db:
            db.execute("ALTER TABLE log RENAME TO log_moved")
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail("yuqing run is still up 60 s after its steps lost the bus")
        stderr = process.stderr.read()
        stdout = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 1, stderr
    assert "no such table: log" in stderr
    assert any(f"yuqing run: {step} stopped: OperationalError" in stderr
               for step in ("classify", "index", "alert", "intake")), stderr
    assert "classify: read 1" in stdout  # the others stopped after their batches, then counted


def test_the_first_failure_stops_the_others_and_sets_the_exit_code():
    from yuqing.cli.run import Supervised

    stop = threading.Event()
    threads = Supervised(stop)
    ended = []

    def steady(name):
        def run():
            stop.wait(30)
            ended.append(name)
        return run

    def broken():
        raise BackendUnavailable("embedded bus: cannot open")

    threads.add("index", steady("index"))
    threads.add("ticker", steady("ticker"))
    threads.add("intake", broken)
    started = time.monotonic()
    threads.start()
    threads.wait()
    assert time.monotonic() - started < 10
    assert sorted(ended) == ["index", "ticker"]
    assert threads.failure[0] == "intake" and threads.exit_code() == 3
