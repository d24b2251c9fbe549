"""End-to-end throughput and latency: articles.raw → classify → index + alert.

    .venv/bin/python benchmarks/pipeline_throughput.py --articles 5000              # embedded
    .venv/bin/python benchmarks/pipeline_throughput.py --articles 5000 \\
        --bus-url kafka://127.0.0.1:9092 --index-url http://127.0.0.1:9200             # real services

Publishes N articles of about 1,500 characters to articles.raw (fresh topics / files / index per
run), then runs the three steps as threads in this process, as ``yuqing run`` does, and reports
articles per second from the first record in to the last one indexed and alerted, and the
latency from a record entering articles.raw to its alert (p50, p95) taken from the bus
timestamps. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def bench_settings(bus_url: str | None, index_url: str | None, run_id: str, prefix: str = "yuqing-bench-"):
    """Settings of one run: a fresh data folder, and fresh topics and index on the real services."""
    from pipeline.config import load_settings

    overrides = {("paths", "data_dir"): str(Path(tempfile.mkdtemp(prefix=prefix)))}
    if bus_url:
        overrides[("bus", "url")] = bus_url
        overrides[("bus", "topic_prefix")] = f"bench.{run_id}."
    if index_url:
        overrides[("index", "url")] = index_url
        overrides[("index", "name")] = f"bench-{run_id}"
    return load_settings(None, env={}, overrides=overrides)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--bus-url")
    parser.add_argument("--index-url")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    from classify_throughput import articles as texts
    from classifiers import registry
    from classifiers.rules import load_rules
    from classifiers.scorer import ModelScorer
    from pipeline import bus as topics
    from pipeline.backends import open_bus, open_index
    from pipeline.flow import StepCount, publish_articles
    from pipeline.records import Article
    from yuqing.app import Application

    run_id = uuid.uuid4().hex[:8]
    settings = bench_settings(args.bus_url, args.index_url, run_id)
    bus, index = open_bus(settings), open_index(settings)
    scorer = ModelScorer(registry.load(), load_rules())

    docs = [Article.create(source_id=f"s{i % 40}", url=f"https://example.cn/{run_id}/{i}.html",
                           title=f"{i} {t[:30]}", content=t) for i, t in enumerate(texts(args.articles))]
    counts = {name: StepCount() for name in ("classify", "index", "alert")}
    app = Application(settings, bus=bus, index=index, scorer=scorer, min_level=0, cluster_stories=False)
    stop = threading.Event()
    workers = [app.worker(n, counts[n], batch_size=args.batch) for n in counts]

    start = time.perf_counter()
    publish_articles(bus, docs)
    published = time.perf_counter()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    while counts["index"].read < len(docs) or counts["alert"].read < len(docs):
        time.sleep(0.05)
        if not all(t.is_alive() for t in threads):
            raise SystemExit("a worker thread died; see the log above")
    done = time.perf_counter()
    stop.set()
    for t in threads:
        t.join(30)

    raw_ts = {}
    alert_ts = []
    for topic, sink in ((topics.RAW, raw_ts), (topics.ALERTS, alert_ts)):
        consumer = bus.consumer(topic, f"bench-read-{run_id}")
        got = 0
        while got < len(docs):
            batch = consumer.poll(max_records=5000, timeout_s=2.0)
            if not batch:
                break
            for m in batch:
                if topic == topics.RAW:
                    sink[m.key] = m.timestamp_ms
                else:
                    sink.append((m.key, m.timestamp_ms))
            got += len(batch)
        consumer.close()
    latencies = sorted((ts - raw_ts[key]) / 1000 for key, ts in alert_ts if key in raw_ts)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    print(f"bus {settings.bus.url}, index {settings.index.url}, {len(docs)} articles of 1,500 chars")
    print(f"publish to articles.raw:      {len(docs) / (published - start):,.0f} articles/s")
    print(f"raw → indexed and alerted:    {len(docs) / (done - start):,.0f} articles/s "
          f"({done - start:.1f} s for all, publishing included)")
    print(f"raw → alert latency:          p50 {p(0.5):.2f} s, p95 {p(0.95):.2f} s "
          f"(all {len(docs)} published at once, so this is queueing time under a burst)")
    if hasattr(index, "delete_index"):
        index.delete_index()
    bus.close()


if __name__ == "__main__":
    main()
