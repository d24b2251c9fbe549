"""Progress of long commands (issue 19): a bar on a terminal, driven through a real pseudo-terminal,
and a status line a minute when the output is a log."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys

from crawlers.testing import FixtureServer, news_sources_yaml, serve_news
from yuqing.cli.progress import Progress


def read_all(fd: int, proc: subprocess.Popen, limit_s: float = 120.0) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], limit_s)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(limit_s)
    return out


def test_crawl_once_draws_a_progress_bar_on_a_terminal(tmp_path):
    with FixtureServer() as server:
        serve_news(server, 4, 3)
        (tmp_path / "sources.yaml").write_text(news_sources_yaml(server, 4), encoding="utf-8")
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "yuqing.cli.main", "--data-dir", str(tmp_path / "data"),
             "crawl", "--once", "--no-scrapy", "--host-delay", "0",
             "--sources", str(tmp_path / "sources.yaml")],
            stdin=follower, stdout=follower, stderr=follower, close_fds=True,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
        os.close(follower)
        try:
            screen = read_all(leader, proc).decode("utf-8", "replace")
        finally:
            os.close(leader)
    assert proc.returncode == 0, screen
    # tqdm's bar: the label, the share done, the bar itself, done/total and the counters
    assert "crawl: 100%|" in screen and "| 4/4 " in screen, screen
    assert "12 articles" in screen and "0 failed" in screen
    assert "\r" in screen  # redrawn in place, not a line per source
    assert "4 sources polled, 12 articles published, 0 sources failed" in screen


def test_without_a_terminal_a_status_line_a_minute_and_one_at_the_end():
    now = [0.0]
    log = io.StringIO()
    progress = Progress(300, "crawl", "sources", stream=log, clock=lambda: now[0])
    for _ in range(100):
        progress.advance(1, failed=False)
        now[0] += 1.0  # 100 s for the first 100 sources
    for _ in range(50):
        progress.count("articles")
    progress.close()
    progress.close()  # twice is harmless
    lines = log.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("crawl: 61/300 sources, 0 failed, 60s")
    assert lines[1].endswith("crawl: 100/300 sources, 0 failed, 50 articles, 100s")


def test_crawl_once_into_a_pipe_writes_status_lines_not_a_bar(tmp_path):
    with FixtureServer() as server:
        serve_news(server, 2, 2)
        (tmp_path / "sources.yaml").write_text(news_sources_yaml(server, 2), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "yuqing.cli.main", "--data-dir", str(tmp_path / "data"),
             "crawl", "--once", "--no-scrapy", "--host-delay", "0",
             "--sources", str(tmp_path / "sources.yaml")],
            capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "%|" not in done.stderr and "\r" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert "crawl: 2/2 sources, 4 articles, 0 failed," in line
