"""Where the stream's time goes: each step on its own, with the services' CPU beside it.

    .venv/bin/python benchmarks/pipeline_profile.py --articles 3000                      # embedded
    .venv/bin/python benchmarks/pipeline_profile.py --articles 3000 \\
        --bus-url kafka://127.0.0.1:9092 --index-url http://127.0.0.1:9200 [--profile]

Publishes N distinct articles of about 1,500 characters to articles.raw (fresh topics / files /
index per run), then runs publish, story clustering (``StoryClusters.assign_many`` and
``raise_levels``, 500 articles at a time, as the classify worker does around scoring), classify
(the model and keyword schemes), index and alert one after the other, each alone in this process
(``Application.drain`` of classify, index and alert until idle, the idle wait taken off), and
prints for each: wall time, articles per second, this process's CPU seconds (all its threads) and
the CPU seconds of the Kafka broker and the Elasticsearch node over the same interval (from
``/proc/PID/stat`` of the pids in deploy/services' state files). ``--profile`` runs each step
under pyinstrument and prints the heaviest frames. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

STATE = Path(os.environ.get("YUQING_SERVICES_STATE", "/var/lib/yuqing-services/state"))
_TICK = os.sysconf("SC_CLK_TCK")


def service_pids() -> dict[str, int]:
    """The pids deploy/services wrote for Kafka and Elasticsearch, where they are running."""
    pids = {}
    for name, file in (("kafka", "kafka/kafka.pid"), ("elasticsearch", "elasticsearch/elasticsearch.pid")):
        try:
            pid = int((STATE / file).read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            continue
        pids[name] = pid
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def es_stats(index) -> dict[str, float]:
    """Node-wide counters of the Elasticsearch node (seconds, or a count), when it is one."""
    client = getattr(index, "client", None)
    if client is None:
        return {}
    nodes = client.nodes.stats(metric="indices,jvm")["nodes"]
    node = next(iter(nodes.values()))
    ind, gc = node["indices"], node["jvm"]["gc"]["collectors"]
    return {
        "indexing s": ind["indexing"]["index_time_in_millis"] / 1000,
        "refreshes": ind["refresh"]["total"],
        "refresh s": ind["refresh"]["total_time_in_millis"] / 1000,
        "merge s": ind["merges"]["total_time_in_millis"] / 1000,
        "young gc s": gc["young"]["collection_time_in_millis"] / 1000,
    }


class Meter:
    """Wall time, this process's CPU and each service's CPU over a ``with`` block."""

    def __init__(self, pids: dict[str, int], index=None):
        self.pids = pids
        self.index = index

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.s0 = {n: cpu_seconds(p) for n, p in self.pids.items()}
        self.e0 = es_stats(self.index)
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
        self.services = {n: cpu_seconds(p) - self.s0[n] for n, p in self.pids.items()}
        self.es = {k: v - self.e0[k] for k, v in es_stats(self.index).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--bus-url")
    parser.add_argument("--index-url")
    parser.add_argument("--profile", action="store_true", help="pyinstrument each step")
    parser.add_argument("--profile-lines", type=int, default=120)
    args = parser.parse_args()

    from classifiers import registry
    from classifiers.rules import load_rules
    from classifiers.scorer import ModelScorer
    from pipeline.backends import open_bus, open_index
    from pipeline.flow import publish_articles
    from pipeline.records import Article
    from pipeline_sustained import distinct_articles
    from pipeline_throughput import bench_settings
    from yuqing.app import Application

    run_id = uuid.uuid4().hex[:8]
    settings = bench_settings(args.bus_url, args.index_url, run_id, prefix="yuqing-profile-")
    data = settings.paths.data_dir
    bus, index = open_bus(settings), open_index(settings)
    scorer = ModelScorer(registry.load(), load_rules())
    scorer.score_many([Article.create(source_id="w", url="https://example.cn/warm", title="纪委",
                                      content="纪委监委通报")])  # load the segmenter's dictionary
    pids = service_pids() if (args.bus_url or args.index_url) else {}

    docs = distinct_articles(args.articles, run_id)
    from classifiers.stories import StoryClusters

    stories = StoryClusters(data / "stories.sqlite3")

    def cluster() -> int:
        # What the classify step with ``stories`` adds to scoring, a batch of 500 at a time: the
        # articles into their stories, then their levels into their stories' (level 1 for all).
        for start in range(0, len(docs), 500):
            batch = docs[start:start + 500]
            found = stories.assign_many([(f"{a.content_hash}:{a.canonical_url}", a.title + "\n" + a.content,
                                          a.published or a.fetched, a.source_id) for a in batch])
            stories.raise_levels([(f.cluster_id, 1, "宣传部") for f in found])
        return len(docs)

    idle_s = 2.0
    app = Application(settings, bus=bus, index=index, scorer=scorer, min_level=0, cluster_stories=False)
    steps = [
        ("publish", lambda: publish_articles(bus, docs)),
        ("stories", cluster),
        ("classify", lambda: app.drain("classify", idle_s=idle_s)),
        ("index", lambda: app.drain("index", idle_s=idle_s)),
        ("alert", lambda: app.drain("alert", idle_s=idle_s)),
    ]
    rows = []
    for name, run in steps:
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
        with Meter(pids, index) as m:
            result = run()
        if profiler:
            profiler.stop()
        # The bus steps end with one empty poll of idle_s: take it off.
        wall = m.wall - (idle_s if name not in ("publish", "stories") else 0.0)
        n = result if isinstance(result, int) else result.read
        rows.append((name, n, wall, m.cpu, m.services))
        if name == "index" and m.es:
            es_line = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in m.es.items())
        if profiler:
            print(f"\n===== {name} =====")
            text = profiler.output_text(unicode=True, color=False, time="percent_of_total")
            print("\n".join(text.splitlines()[:args.profile_lines]))

    print(f"\nbus {settings.bus.url}, index {settings.index.url}, {len(docs)} articles of 1,500 "
          f"chars, batches of 500; load average {os.getloadavg()[0]:.2f}")
    header = f"{'step':<9} {'articles':>8} {'wall s':>7} {'art/s':>7} {'py CPU s':>9} {'ms/art':>7}"
    for s in pids:
        header += f" {s + ' CPU s':>18}"
    print(header)
    for name, n, wall, cpu, services in rows:
        line = (f"{name:<9} {n:>8} {wall:>7.2f} {n / wall:>7.0f} {cpu:>9.2f} "
                f"{1000 * cpu / max(n, 1):>7.2f}")
        for s in pids:
            line += f" {services[s]:>18.2f}"
        print(line)
    if hasattr(index, "client"):
        print(f"elasticsearch during the index step: {es_line}")
    if hasattr(index, "delete_index"):
        index.delete_index()
    bus.close()
    stories.close()
    if args.bus_url:
        from pipeline_sustained import delete_topics

        delete_topics(settings)
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
