"""Alert intake and clock throughput on the embedded SQLite store and on PostgreSQL.

    .venv/bin/python benchmarks/alert_intake_throughput.py [--articles 2000] [--pg-url URL]

Ingests ``--articles`` scored articles of level 1-3 (a story gets several reposts, as real ones
do: about one story per four articles) through ``AlertService.ingest_many`` in batches of
``--batch`` (one transaction a batch, as the intake worker takes a polled batch; ``--batch 1`` is
one transaction an article); then gives 300 consultation tasks deadlines and times the ``tick`` that
fires their reminders and escalations. Prints articles per second, per-batch latency (p50, p95)
and the tick's duration. One article in ten names a watched place (会昌), as local news does. Nothing is asserted: it measures. PostgreSQL is measured when
``--pg-url`` (or ``YUQING_PG_URL``) names a reachable server; a fresh database is made and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def run(url: str, n: int, batch: int) -> dict:
    from alerting.clock import ManualClock
    from alerting.config import AlertingConfig
    from alerting.service import AlertService
    from alerting.store import open_store
    from alerting.testing import scored
    from alerting.access import Actor
    from alerting.workflow import TaskSpec

    clock = ManualClock(datetime(2026, 11, 27, 1, tzinfo=timezone.utc))
    service = AlertService(open_store(url), AlertingConfig(), clock=clock, channels={})
    articles = [scored(f"第{i // 4}号事件：网传某镇干部违规问题", at=clock.now() + timedelta(seconds=i),
                       level=1 + i % 3, story=f"story-{i // 4}", source=f"site-{i % 17}",
                       text=f"第{i}篇转帖，{'会昌县' if i % 10 == 0 else ''}某镇干部被指违规，网友持续关注。")
                for i in range(n)]
    times = []
    start = time.perf_counter()
    for i in range(0, n, batch):
        t0 = time.perf_counter()
        service.ingest_many(articles[i:i + batch])
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start

    office = Actor("bench", "宣传部")
    alert_ids = [a.id for a in service.list(office)][:100]
    for alert_id in alert_ids:
        service.consult(alert_id, office, [TaskSpec(f"任务{k}", "监督检查室", "监督检查室值班员", timedelta(minutes=45))
                                           for k in range(3)])
    clock.advance(minutes=50)
    t0 = time.perf_counter()
    fired = service.tick(deliver=False)
    tick_s = time.perf_counter() - t0
    service.store.close()
    times.sort()
    return {"per_s": n / elapsed, "p50_ms": 1000 * times[len(times) // 2],
            "p95_ms": 1000 * times[int(len(times) * 0.95)], "tick_s": tick_s,
            "timers": fired.reminders + fired.escalations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--pg-url", default=os.environ.get("YUQING_PG_URL"))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.articles} articles in batches of {args.batch}")
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": run(f"sqlite:///{Path(tmp) / 'alerts.sqlite3'}", args.articles, args.batch)}
    if args.pg_url:
        from pipeline.testing import postgres_database

        with postgres_database(args.pg_url) as url:
            results["postgresql"] = run(url, args.articles, args.batch)
    for name, r in results.items():
        print(f"{name:<11} {r['per_s']:7.0f} articles/s  batch p50 {r['p50_ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms"
              f"  tick of {r['timers']} timers {r['tick_s']:.2f} s")


if __name__ == "__main__":
    main()
