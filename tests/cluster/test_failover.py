"""Failover on the cluster (deploy/services/cluster, ``make test-cluster``): nothing lost, nothing
twice.

The real workers run as processes (``yuqing worker``: two classify and two index members in one
consumer group each, one alert) while this test feeds ``articles.raw`` at a steady rate. Mid-stream one Kafka broker and one Elasticsearch data node (the elected master when it is
es-2) are stopped and, after a while, started again; then every worker is restarted in turn
(SIGTERM, wait, start) under the same load. Afterwards every article fed is in Elasticsearch
exactly once (counted by article across every monthly index), its alert record is on the alert
queue (copies a redelivery made are counted and printed: the queue is at-least-once, and the
intake, which is idempotent, makes one alert of them), and the dead-letter topic is empty.

The intake (alert store) is not in the run: on this machine it takes in about 5 records a second
under the test's load, a quarter of the feed, and would only measure its own backlog.

The audit function returns what is wrong instead of asserting, so that a test can show on the
real cluster that it finds a lost and a duplicated article. The figures (rate held, lag peak,
recovery times) are printed; docs/benchmarks.md, "Cluster failover", records them.

    YUQING_FAILOVER_RATE    articles a second fed (default 20)
    YUQING_FAILOVER_DOWN_S  seconds the two nodes stay down (default 30)
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan
from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from pipeline.bus import ALERTS, DEADLETTER, RAW
from pipeline.bus.kafka import KafkaBus, bootstrap_servers
from pipeline.errors import BackendUnavailable
from pipeline.index import document
from pipeline.index.elasticsearch import ElasticsearchIndex
from pipeline.records import Article, ScoredArticle, encode
from pipeline.testing import drop_test_topics, free_port, groups_stable, unique, worker_counters
from pipeline.urloptions import index_hosts

#: The script that stops and starts single nodes of the cluster.
CLUSTER_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "services" / "cluster"

#: How many members each step's consumer group gets: two of classify and index show that a step
#: grows by adding processes.
MEMBERS = {"classify": 2, "index": 2, "alert": 1}
#: The step names in a worker's name (classify-2 → classify).
STEP = re.compile(r"^([a-z]+)-\d+$")


def articles(n: int, run_id: str) -> list[Article]:
    """``n`` distinct articles of about 600 characters, from sentences of the training corpus."""
    from classifiers.corpus import load_corpus

    sentences = [s for e in load_corpus() for s in re.split(r"(?<=[。！？])", e.full_text) if len(s) > 5]
    rng = random.Random(17)
    out = []
    for i in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < 600:
            parts.append(rng.choice(sentences))
        body = "".join(parts)[:600]
        out.append(Article.create(source_id=f"s{i % 20}", url=f"https://example.cn/{run_id}/{i}.html",
                                  title=body[:30], content=body))
    return out


class Feeder:
    """Publishes articles to ``articles.raw`` at ``rate`` a second on a thread, like crawlers do.

    A flush the bus refuses (no broker acknowledged in time) is published again: the crawler's own
    behaviour, and a copy on the raw topic must not become a copy anywhere downstream.
    """

    def __init__(self, bus: KafkaBus, items: list[Article], rate: float):
        self.bus, self.items, self.rate = bus, items, rate
        self.sent = 0
        self.refused = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        while self.sent < len(self.items) and not self.stop.is_set():
            due = min(len(self.items), int(self.rate * (time.monotonic() - start)) + 1)
            batch = self.items[self.sent:due]
            while True:
                for a in batch:
                    self.bus.publish(RAW, encode(a), key=a.key())
                try:
                    self.bus.flush()
                    break
                except BackendUnavailable:
                    self.refused += 1
            self.sent = due
            time.sleep(0.05)

    def finish(self) -> None:
        """Stop feeding (what is due is sent) and wait for the thread."""
        self.stop.set()
        self.thread.join(120)


@dataclass
class Workers:
    """``yuqing worker STEP`` processes, each with a metrics port and a log file."""

    config: Path
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        # The settings file decides: no deployment variable of this shell overrides it.
        return {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}

    def spawn(self, name: str) -> None:
        step = STEP.match(name)[1]
        self.ports[name] = free_port()
        argv = [str(Path(sys.executable).parent / "yuqing"), "--config", str(self.config), "worker",
                step, "--metrics-port", str(self.ports[name])]
        if step == "alert":
            argv += ["--min-level", "0"]  # every article goes on the alert queue: each is audited
        log = open(self.logs / f"{name}.log", "a")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env())

    def start_all(self) -> None:
        for step, n in MEMBERS.items():
            for i in range(1, n + 1):
                self.spawn(f"{step}-{i}")

    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise AssertionError(f"worker {name} exited with {p.returncode}:\n" + self.tail(name))

    def tail(self, name: str, chars: int = 3000) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-chars:]

    def restart(self, name: str, timeout_s: float = 120) -> float:
        """SIGTERM (the worker finishes and commits its batch), wait for its exit, start it again;
        returns the seconds it was gone."""
        began = time.monotonic()
        p = self.procs[name]
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker {name} did not stop within {timeout_s:g} s of SIGTERM:\n"
                                 + self.tail(name)) from None
        assert code == 0, f"worker {name} exited with {code} on SIGTERM:\n" + self.tail(name)
        self.spawn(name)
        return time.monotonic() - began

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def metrics(self) -> dict[str, float]:
        """``produced:STEP`` summed over the members, ``lag:STEP`` summed too (a group's lag)."""
        out: dict[str, float] = {}
        for port in self.ports.values():
            for key, value in worker_counters(port).items():
                out[key] = out.get(key, 0.0) + value
        return out


def groups_ready(kafka_url: str, prefix: str) -> bool:
    """Every step's group is Stable with all its members."""
    return groups_stable(kafka_url, {prefix + g: n for g, n in MEMBERS.items()})


def fully_replicated(kafka_url: str, prefix: str, replicas: int) -> bool:
    """Every partition of this run's topics has all its replicas in sync again."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers(kafka_url), request_timeout_ms=10_000)
    try:
        topics = admin.describe_topics([t for t in admin.list_topics() if t.startswith(prefix)])
    except Exception:
        return False
    finally:
        admin.close()
    return bool(topics) and all(len(p["isr_nodes"]) == replicas for t in topics for p in t["partitions"])


def es_client(es_url: str) -> Elasticsearch:
    return Elasticsearch(index_hosts(es_url), request_timeout=30)


def index_audit(es_url: str, index: str, urls: set[str]) -> tuple[set[str], dict[str, int]]:
    """(lost, duplicated) of the articles ``urls`` in the alias ``index``: documents counted by
    article, across every monthly index, whatever their ids."""
    es = es_client(es_url)
    try:
        es.indices.refresh(index=index)
        counts = Counter(hit["_source"]["url"] for hit in
                         scan(es, index=index, query={"query": {"match_all": {}}}, _source=["url"]))
    finally:
        es.close()
    return urls - set(counts), {u: n for u, n in counts.items() if n > 1}


def topic_keys(bus: KafkaBus, topic: str, group: str, expected: int, patience_s: float = 60) -> Counter:
    """Every key on ``topic`` from its start (a fresh group), counted."""
    consumer = bus.consumer(topic, group)
    keys: Counter = Counter()
    deadline = time.monotonic() + patience_s
    quiet_until = None
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(max_records=5000, timeout_s=1.0)
            keys.update(m.key for m in batch)
            if batch:
                quiet_until = time.monotonic() + 5
            elif sum(keys.values()) >= expected and quiet_until and time.monotonic() > quiet_until:
                break
            elif expected == 0 and consumer.assigned() and quiet_until is None:
                quiet_until = time.monotonic() + 5
    finally:
        consumer.close()
    return keys


def cluster_node(command: str, *nodes: str) -> None:
    """``deploy/services/cluster start|stop NODE...``; its output goes to the test's log."""
    done = subprocess.run([str(CLUSTER_SCRIPT), command, *nodes], capture_output=True, text=True,
                          timeout=600)
    print(done.stdout, done.stderr, sep="", end="")
    assert done.returncode == 0, f"cluster {command} {' '.join(nodes)} failed:\n{done.stdout}{done.stderr}"


def drop_run(kafka_url: str, es_url: str, prefix: str, index: str) -> None:
    """This run's topics, consumer groups and indices: the cluster is left as it was found."""
    drop_test_topics(kafka_url, prefix)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers(kafka_url), request_timeout_ms=15_000)
    try:
        groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix)]
        if groups:
            admin.delete_groups(groups)
    except Exception as exc:  # a leftover group holds no data; say so and go on
        print(f"could not delete the consumer groups of {prefix}: {exc}")
    finally:
        admin.close()
    es = es_client(es_url)
    try:
        es.options(ignore_status=404).indices.delete(index=f"{index}-*")
        es.options(ignore_status=404).indices.delete_index_template(name=f"{index}-template")
    finally:
        es.close()


def wait_for(what: str, ready, timeout_s: float, workers: "Workers | None" = None) -> float:
    """Poll ``ready()`` once a second until it is true; returns the seconds it took."""
    began = time.monotonic()
    while not ready():
        if workers:
            workers.check_alive()
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(1)
    return time.monotonic() - began


class Sampler:
    """Once a second: the documents in the index and the consumer groups' lag, for the figures.

    The lag is read from the brokers (end offsets less each group's committed offsets, summed
    over the steps), not from the workers' gauges: a worker sets its gauge after a batch, so one
    that is stuck on a node that went away would report nothing while its backlog grows.
    """

    def __init__(self, kafka_url: str, prefix: str, es_url: str, index: str):
        self.es = es_client(es_url)
        self.servers, self.prefix, self.index = bootstrap_servers(kafka_url), prefix, index
        self.admin: KafkaAdminClient | None = None
        self.reader: KafkaConsumer | None = None
        self.samples: list[tuple[float, int | None, float | None]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _lag(self) -> float | None:
        try:
            if self.admin is None:
                self.admin = KafkaAdminClient(bootstrap_servers=self.servers, request_timeout_ms=5_000)
                self.reader = KafkaConsumer(bootstrap_servers=self.servers, request_timeout_ms=5_000)
            total = 0
            found = self.admin.list_group_offsets([self.prefix + step for step in MEMBERS])
            for committed in found.values():
                ends = self.reader.end_offsets(list(committed))
                total += sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
            return total
        except Exception:  # a broker going away mid-question: no figure this second, ask anew
            self._close_kafka()
            return None

    def _close_kafka(self) -> None:
        for client in (self.admin, self.reader):
            try:
                if client is not None:
                    client.close()
            except Exception:
                pass
        self.admin = self.reader = None

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                count = self.es.count(index=self.index)["count"]
            except Exception:  # a master election in progress: no figure this second
                count = None
            self.samples.append((time.monotonic(), count, self._lag()))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.es.close()
        self._close_kafka()

    def indexed_rate(self, t0: float, t1: float) -> float:
        """Documents a second that became searchable between ``t0`` and ``t1``."""
        inside = [(t, c) for t, c, _ in self.samples if t0 <= t <= t1 and c is not None]
        if len(inside) < 2:
            return float("nan")
        (ta, ca), (tb, cb) = inside[0], inside[-1]
        return (cb - ca) / (tb - ta)

    def longest_stall(self, t0: float, t1: float) -> float:
        """The longest time between ``t0`` and ``t1`` in which the index did not grow."""
        longest, since, last = 0.0, None, None
        for t, c, _ in self.samples:
            if not t0 <= t <= t1 or c is None:
                continue
            if last is None or c > last:
                since, last = t, c
            longest = max(longest, t - since)
        return longest

    def lag_peak(self, t0: float, t1: float) -> float:
        return max((lag for t, _, lag in self.samples if t0 <= t <= t1 and lag is not None),
                   default=float("nan"))


@pytest.mark.cluster
def test_topics_and_indices_made_on_the_cluster_are_replicated(cluster):
    prefix = unique("test.") + "."
    bus = KafkaBus(cluster.kafka_url, partitions=3, topic_prefix=prefix)
    name = unique("test-")
    index = ElasticsearchIndex(cluster.es_url, name=name)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers(cluster.kafka_url))
        try:
            described = admin.describe_topics([prefix + RAW])
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, prefix + RAW, ["min.insync.replicas"])])
        finally:
            admin.close()
        assert [len(p["replica_nodes"]) for p in described[0]["partitions"]] == [3, 3, 3]
        assert configs["topic"][prefix + RAW]["min.insync.replicas"]["value"] == "2"
        settings = index.client.indices.get_settings(index=f"{name}-*")
        assert [s["settings"]["index"]["number_of_replicas"] for s in settings.values()] == ["1"]
    finally:
        bus.close()
        index.delete_index()
        index.close()
        drop_test_topics(cluster.kafka_url, prefix)


@pytest.mark.cluster
def test_the_audit_finds_a_lost_and_a_duplicated_article(cluster):
    name = unique("test-")
    index = ElasticsearchIndex(cluster.es_url, name=name)
    try:
        written = articles(4, name)
        scored = [ScoredArticle.from_article(a, relevance=0.5, sensitivity=0.5, level=1,
                                             model_version="test")
                  for a in written[:3]]
        for a in scored:
            index.add(a)
        assert index.flush() == []
        # the same article filed again in another month's index: a second document of it
        index.client.index(index=f"{name}-2001.01", id=scored[0].id, document=document(scored[0]))
        lost, duplicated = index_audit(cluster.es_url, name, {a.url for a in written})
        assert lost == {written[3].url}
        assert duplicated == {written[0].url: 2}
    finally:
        index.delete_index()
        index.close()


@pytest.mark.cluster
@pytest.mark.timeout(1800)  # stops itself: every wait below has its own limit, well inside this
def test_a_broker_and_a_data_node_lost_and_every_worker_restarted_lose_and_double_nothing(
        cluster, tmp_path):
    rate = float(os.environ.get("YUQING_FAILOVER_RATE", "20"))
    down_s = float(os.environ.get("YUQING_FAILOVER_DOWN_S", "30"))
    steady_s = 15.0
    run_id = unique("fo")
    prefix, name = f"test.{run_id}.", f"test-{run_id}"
    data = tmp_path / "data"
    config = tmp_path / "yuqing.yaml"
    config.write_text(f"bus:\n  url: '{cluster.kafka_url}'\n  topic_prefix: '{prefix}'\n"
                      f"  partitions: 6\nindex:\n  url: '{cluster.es_url}'\n  name: {name}\n"
                      f"paths:\n  data_dir: {data}\n")
    (tmp_path / "logs").mkdir()
    bus = KafkaBus(cluster.kafka_url, partitions=6, topic_prefix=prefix)
    ElasticsearchIndex(cluster.es_url, name=name).close()
    workers = Workers(config, tmp_path / "logs")
    # Enough articles for 15 minutes of feed; the test feeds what its phases take.
    pool = articles(int(rate * 900), run_id)
    feeder = Feeder(bus, pool, rate)
    sampler = None
    try:
        workers.start_all()
        wait_for("every worker in its consumer group", lambda: groups_ready(cluster.kafka_url, prefix),
                 300, workers)
        sampler = Sampler(cluster.kafka_url, prefix, cluster.es_url, name)
        feeder.start()
        time.sleep(steady_s)

        t_down = time.monotonic()
        cluster_node("stop", "kafka-2", "es-2")
        time.sleep(down_s)
        t_up = time.monotonic()
        cluster_node("start", "kafka-2", "es-2")
        booted = time.monotonic() - t_up
        es = es_client(cluster.es_url)
        try:
            # 408 is Elasticsearch's answer while the status is not reached yet
            wait_for("Elasticsearch green", lambda: es.options(ignore_status=408).cluster.health(
                wait_for_status="green", timeout="5s")["status"] == "green", 300, workers)
        finally:
            es.close()
        wait_for("every partition with 3 in-sync replicas",
                 lambda: fully_replicated(cluster.kafka_url, prefix, 3), 300, workers)
        recovered = time.monotonic() - t_up
        time.sleep(steady_s)

        t_rolling = time.monotonic()
        gone = {}
        for worker in list(workers.procs):
            gone[worker] = workers.restart(worker)
            wait_for(f"{worker} back in its group", lambda: groups_ready(cluster.kafka_url, prefix),
                     300, workers)
        t_rolled = time.monotonic()
        time.sleep(steady_s)
        feeder.finish()
        t_fed = time.monotonic()
        assert feeder.sent < len(pool), "the feed ran out of articles before the test ended"
        fed = pool[:feeder.sent]

        es = es_client(cluster.es_url)
        try:
            def drained() -> bool:
                es.indices.refresh(index=name)
                m = workers.metrics()
                return (es.count(index=name)["count"] >= len(fed)
                        and all(m.get(f"lag:{s}", 1) == 0 for s in MEMBERS))
            drain_s = wait_for("the backlog drained", drained, 300, workers)
        finally:
            es.close()
        time.sleep(5)  # the alert step's last batch published and committed
        workers.check_alive()

        lost, duplicated = index_audit(cluster.es_url, name, {a.url for a in fed})
        alerted = topic_keys(bus, ALERTS, f"audit-{run_id}-alerts", len(fed))
        dead = topic_keys(bus, DEADLETTER, f"audit-{run_id}-dead", 0, patience_s=30)

        duration = t_fed - feeder.started
        print(f"\ncluster failover: {len(fed)} articles fed at {rate:g}/s over {duration:.0f} s "
              f"(publish retried {feeder.refused} times)")
        print(f"  nodes down (kafka-2, es-2) for {down_s:g} s: indexed "
              f"{sampler.indexed_rate(t_down, t_up + recovered):.1f}/s, longest stall "
              f"{sampler.longest_stall(t_down, t_up + recovered):.0f} s, lag peak "
              f"{sampler.lag_peak(t_down, t_up + recovered):.0f}; started again in {booted:.0f} s, "
              f"green and fully in sync {recovered:.0f} s after the start")
        print(f"  rolling restart of {len(gone)} workers in {t_rolled - t_rolling:.0f} s "
              f"(each gone {min(gone.values()):.1f}-{max(gone.values()):.1f} s): indexed "
              f"{sampler.indexed_rate(t_rolling, t_rolled):.1f}/s, longest stall "
              f"{sampler.longest_stall(t_rolling, t_rolled):.0f} s, lag peak "
              f"{sampler.lag_peak(t_rolling, t_rolled):.0f}")
        print(f"  whole feed: indexed {sampler.indexed_rate(feeder.started, t_fed):.1f}/s, lag peak "
              f"{sampler.lag_peak(feeder.started, t_fed):.0f}; drained {drain_s:.0f} s after the feed")
        print(f"  audit: lost {len(lost)}, duplicated {len(duplicated)} in Elasticsearch; "
              f"{len(set(alerted) & {a.key() for a in fed})} of {len(fed)} on the alert queue "
              f"({sum(alerted.values()) - len(alerted)} redelivered copies); "
              f"{sum(dead.values())} dead letters")

        assert not lost, f"{len(lost)} articles never indexed, e.g. {sorted(lost)[:3]}"
        assert not duplicated, f"{len(duplicated)} articles indexed twice, e.g. {list(duplicated.items())[:3]}"
        missing = {a.key() for a in fed} - set(alerted)
        assert not missing, f"{len(missing)} articles never reached the alert queue"
        assert not dead, f"{sum(dead.values())} records in the dead-letter topic"
    finally:
        feeder.finish()
        if sampler:
            sampler.close()
        workers.stop_all()
        try:
            cluster_node("start", "kafka-2", "es-2")  # a failure above may have left them down
        finally:
            bus.close()
            drop_run(cluster.kafka_url, cluster.es_url, prefix, name)
