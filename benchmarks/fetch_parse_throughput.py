"""Fetch-and-parse throughput of the pollers, articles per second on one core, over loopback.

    .venv/bin/python benchmarks/fetch_parse_throughput.py [--articles 200] [--rounds 3]

Serves generated fixture feeds and article pages (in the shape of tests/crawlers/fixtures, text
generated here) from crawlers.testing.FixtureServer on 127.0.0.1, pins the process (server
thread included, so the figures are conservative) to one CPU, switches politeness waits off
(they measure the sites' patience, not our speed), and times three cases with PollSource:

  feed          one RSS feed of N entries: fetch once, parse, build N Articles
  full_text     the same feed with fetch_full_text and per-source selectors: N page fetches,
                decode, extract
  auto_extract  the same with automatic extraction (no selectors)

Snapshots are written (as in production) to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.fetch import Fetcher  # noqa: E402
from crawlers.poll import PollSource  # noqa: E402
from crawlers.snapshots import SnapshotStore  # noqa: E402
from crawlers.sources import Source  # noqa: E402
from crawlers.testing import FixtureServer  # noqa: E402

TOWNS = ["东山镇", "西河乡", "南岭镇", "北坪乡", "中和街道", "青石镇", "白沙乡", "红岩镇"]
TOPICS = ["召开警示教育大会", "开展作风建设专项检查", "通报两起违纪典型问题", "部署廉政风险排查",
          "组织新任干部廉政谈话", "开展惠民资金监督检查", "推进以案促改工作", "举办纪法知识培训"]


class NoWait:
    """Politeness switched off for the benchmark."""

    def wait(self, host: str, source_id: str, per_minute: float) -> float:
        return 0.0


def build_site(root: Path, n: int) -> None:
    (root / "a").mkdir(parents=True)
    items = []
    for i in range(n):
        title = f"{TOWNS[i % 8]}{TOPICS[(i // 8) % 8]}（第{i}期）"
        paras = "".join(
            f"<p>{TOWNS[(i + k) % 8]}纪委围绕{TOPICS[(i + k) % 8]}，逐项对照问题清单，"
            f"督促有关单位在第{k + 1}季度内完成整改，并将整改情况向社会公开。</p>" for k in range(8))
        page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_示范县纪委监委'
                f'</title></head><body><div class="nav"><a href="/">首页</a></div>'
                f'<div class="article"><h1 class="title">{title}</h1><div class="info">发布时间：'
                f'2026-03-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d} 来源：示范县纪委监委</div>'
                f'<div class="TRS_Editor">{paras}</div></div><div class="footer">版权所有</div>'
                f'</body></html>')
        (root / "a" / f"{i}.html").write_text(page, encoding="utf-8")
        items.append(f"<item><title>{title}</title><link>http://yuqing.test/a/{i}.html</link>"
                     f"<guid>bench-{i}</guid><description><![CDATA[<p>{title}摘要。</p>]]>"
                     f"</description><pubDate>Thu, 05 Mar 2026 10:{i % 60:02d}:00 +0800</pubDate>"
                     f"</item>")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>基准</title>'
            f'<link>http://yuqing.test/</link><description>x</description>{"".join(items)}'
            '</channel></rss>')
    (root / "feed.xml").write_text(feed, encoding="utf-8")


def measure(server: FixtureServer, fetcher: Fetcher, n: int, rounds: int, **fields) -> float:
    rates = []
    for r in range(rounds):
        source = Source(id=f"bench-{r}", name="bench", type="rss", url=server.url("/feed.xml"),
                        internal=True, robots=False, max_items=n, **fields)
        started = time.perf_counter()
        result = PollSource(fetcher).run(source)
        took = time.perf_counter() - started
        assert len(result.candidates) == n and not result.warnings, result.warnings[:3]
        rates.append(n / took)
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        build_site(root, args.articles)
        with FixtureServer(root) as server, \
                Fetcher(SnapshotStore(Path(tmp) / "snapshots"), NoWait()) as fetcher:
            selectors = {"title": "h1.title", "body": "div.TRS_Editor", "date": "div.info"}
            cases = {
                "feed": measure(server, fetcher, args.articles, args.rounds),
                "full_text": measure(server, fetcher, args.articles, args.rounds,
                                     fetch_full_text=True, extraction=selectors),
                "auto_extract": measure(server, fetcher, args.articles, args.rounds,
                                        fetch_full_text=True),
            }
    print(f"fetch-and-parse throughput, {args.articles} articles, median of {args.rounds} rounds, "
          f"one core, Python {sys.version.split()[0]}")
    for name, rate in cases.items():
        print(f"  {name:<13} {rate:8.1f} articles/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
