"""CPU per record of the Kafka client, as the bus uses it (issue 17): publish + flush, and
poll + commit, through KafkaBus on the real broker.

    .venv/bin/python benchmarks/kafka_client.py --bus-url kafka://127.0.0.1:9092 \
        [--records 10000] [--size 5000] [--rounds 3] [--old-rev 2db932b] [--trickle 250]

Each round publishes ``--records`` records of ``--size`` bytes (distinct keys, 6 partitions) in
batches of 500, one flush a batch as a step does, then reads them back in a fresh consumer group,
committing after every poll. The figure is the process's CPU (``time.process_time``: every
thread, so the clients' own I/O threads are counted) divided by the records. The broker's CPU in
the same spans is printed beside it when deploy/services runs the broker here (it is shared with
whatever else uses it, so it is the noisier figure). The consumer's clock starts after its first
batch, so joining the group is not counted.

With ``--trickle RATE``, each round also feeds RATE records a second for 20 s, a few every 20 ms
with a flush each time as the pipeline's feeder does, while a consumer on a thread polls, commits
and asks for its lag after every batch, as a step does: small requests, where the broker's CPU
per record is highest. Printed: the broker's and this process's CPU per record over that span.
``--no-reader`` leaves the reader out, so the broker's figure is the producer's requests alone.

With ``--old-rev``, the same is measured on the KafkaBus of that git revision as well (kafka-python,
before issue 17 moved the bus to librdkafka), when kafka-python can still be imported; rounds
alternate between the two so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).parent))

from pipeline_profile import cpu_seconds, service_pids  # noqa: E402

from pipeline.bus import RAW  # noqa: E402
from pipeline.bus.kafka import KafkaBus  # noqa: E402
from pipeline.testing import drop_test_topics, unique  # noqa: E402

BATCH = 500


def old_bus_class(rev: str):
    """KafkaBus as it was at ``rev`` (loaded from git), or None when that cannot be run here."""
    try:
        import kafka  # noqa: F401  (only to know whether the old client is installed)
    except ImportError:
        print(f"(kafka-python is not installed: no figures for {rev})")
        return None
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:pipeline/bus/kafka.py"],
                            capture_output=True, text=True)
    if source.returncode != 0:
        print(f"(no pipeline/bus/kafka.py at {rev}: {source.stderr.strip()})")
        return None
    module = types.ModuleType(f"kafka_bus_at_{rev}")
    sys.modules[module.__name__] = module  # dataclasses and typing look modules up by name
    exec(compile(source.stdout, f"{rev}:pipeline/bus/kafka.py", "exec"), module.__dict__)
    return module.KafkaBus


def broker_cpu() -> float:
    """CPU seconds of the local broker so far (0 when deploy/services does not run one here)."""
    pid = service_pids().get("kafka")
    return cpu_seconds(pid) if pid else 0.0


def one_round(bus_class, url: str, records: int, size: int) -> tuple[float, float, float, float]:
    """(produce, consume+commit, broker while producing, broker while consuming) CPU
    milliseconds per record."""
    prefix = unique("bench.client.") + "."
    bus = bus_class(url, partitions=6, topic_prefix=prefix)
    value = os.urandom(size // 2).hex().encode()[:size]
    try:
        began, broker_began = time.process_time(), broker_cpu()
        for start in range(0, records, BATCH):
            for i in range(start, min(records, start + BATCH)):
                bus.publish(RAW, value, key=f"k{i}".encode())
            bus.flush()
        produce = (time.process_time() - began) / records
        broker_produce = (broker_cpu() - broker_began) / records

        consumer = bus.consumer(RAW, "reader")
        deadline = time.monotonic() + 60
        first: list = []
        while not first:
            if time.monotonic() > deadline:
                raise SystemExit("the consumer got nothing within 60 s: is the broker busy?")
            first = consumer.poll(max_records=BATCH, timeout_s=1.0)
        consumer.commit()
        got, began, broker_began = 0, time.process_time(), broker_cpu()
        while got < records - len(first) and time.monotonic() < deadline:
            batch = consumer.poll(max_records=BATCH, timeout_s=1.0)
            consumer.commit()
            got += len(batch)
        consume = (time.process_time() - began) / max(got, 1)
        broker_consume = (broker_cpu() - broker_began) / max(got, 1)
        consumer.close()
        if got < records - len(first):
            raise SystemExit(f"only {got + len(first)} of {records} records came back within 60 s")
        return produce * 1000, consume * 1000, broker_produce * 1000, broker_consume * 1000
    finally:
        bus.close()
        drop_test_topics(url, prefix)


def trickle_round(bus_class, url: str, rate: float, size: int, seconds: float = 20.0,
                  reader: bool = True) -> tuple[float, float]:
    """(broker, this process) CPU milliseconds per record while trickling ``rate`` a second."""
    prefix = unique("bench.trickle.") + "."
    bus = bus_class(url, partitions=6, topic_prefix=prefix)
    value = os.urandom(size // 2).hex().encode()[:size]
    records = int(rate * seconds)
    consumer = bus.consumer(RAW, "reader") if reader else None
    deadline = time.monotonic() + 60
    while consumer is not None and not consumer.assigned():
        if time.monotonic() > deadline:
            raise SystemExit("the consumer got no partitions within 60 s: is the broker busy?")
        consumer.poll(timeout_s=1.0)
    got = [0 if reader else records]

    def read() -> None:
        while got[0] < records and time.monotonic() < deadline + 2 * seconds:
            got[0] += len(consumer.poll(max_records=BATCH, timeout_s=1.0))
            consumer.commit()
            consumer.lag()

    reading = threading.Thread(target=read)
    try:
        began, broker_began, start = time.process_time(), broker_cpu(), time.monotonic()
        reading.start()
        sent = 0
        while sent < records:
            due = min(records, int(rate * (time.monotonic() - start)) + 1)
            for i in range(sent, due):
                bus.publish(RAW, value, key=f"k{i}".encode())
            bus.flush()
            sent = due
            time.sleep(0.02)
        reading.join()
        if got[0] < records:
            raise SystemExit(f"only {got[0]} of {records} trickled records came back")
        return ((broker_cpu() - broker_began) * 1000 / records,
                (time.process_time() - began) * 1000 / records)
    finally:
        if consumer is not None:
            consumer.close()
        bus.close()
        drop_test_topics(url, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bus-url", default="kafka://127.0.0.1:9092")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old-rev", default=None, help="also measure the KafkaBus of this git revision")
    parser.add_argument("--trickle", type=float, default=0.0, metavar="RATE",
                        help="also feed RATE records a second for 20 s with a reader alongside")
    parser.add_argument("--no-reader", action="store_true", help="the trickle without its reader")
    args = parser.parse_args()

    clients = {"confluent-kafka (this tree)": KafkaBus}
    if args.old_rev:
        old = old_bus_class(args.old_rev)
        if old is not None:
            clients[f"kafka-python ({args.old_rev})"] = old
    figures: dict[str, list[tuple[float, ...]]] = {name: [] for name in clients}
    trickled: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    for n in range(args.rounds):
        for name, bus_class in clients.items():
            figures[name].append(one_round(bus_class, args.bus_url, args.records, args.size))
            produce, consume, b_produce, b_consume = figures[name][-1]
            print(f"round {n + 1} {name}: produce {produce:.4f} ms, consume+commit {consume:.4f} ms; "
                  f"broker {b_produce:.4f} / {b_consume:.4f} ms")
            if args.trickle:
                trickled[name].append(trickle_round(bus_class, args.bus_url, args.trickle, args.size,
                                                     reader=not args.no_reader))
                print(f"round {n + 1} {name}: trickle at {args.trickle:g}/s: broker "
                      f"{trickled[name][-1][0]:.3f} ms, this process {trickled[name][-1][1]:.3f} ms")
    print(f"\n{args.records} records of {args.size} bytes, 6 partitions, batches of {BATCH}; "
          f"CPU per record (median of {args.rounds}), load average {os.getloadavg()[0]:.1f}")
    for name, rows in figures.items():
        produce, consume, b_produce, b_consume = (sorted(r[i] for r in rows)[len(rows) // 2]
                                                  for i in range(4))
        print(f"  {name:32} produce {produce:.4f} ms   consume+commit {consume:.4f} ms   "
              f"broker {b_produce:.4f} / {b_consume:.4f} ms")
        if trickled[name]:
            broker, own = (sorted(r[i] for r in trickled[name])[len(rows) // 2] for i in range(2))
            print(f"  {'':32} trickle at {args.trickle:g}/s: broker {broker:.3f} ms, "
                  f"this process {own:.3f} ms")


if __name__ == "__main__":
    main()
