"""``yuqing worker classify|index|alert|intake`` and ``yuqing run``: the stream workers.

A worker runs one step against the configured bus (Kafka in a deployment): several instances of
a step in one consumer group share its partitions, which is how a deployment grows past one
machine. ``yuqing run`` runs every step in one process, on the embedded default. SIGTERM or
Ctrl-C finishes the batch in hand, commits it, and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

log = logging.getLogger(__name__)


def register(sub) -> None:
    worker = sub.add_parser("worker", help="run one stream step (classify, index, alert or intake)")
    worker.add_argument("step", choices=["classify", "index", "alert", "intake"])
    worker.add_argument("--group", help="consumer group (default: the step's name)")
    _common(worker)
    worker.set_defaults(run=run_worker)

    run = sub.add_parser("run", help="crawl and run every step in one process until stopped (embedded default)")
    run.add_argument("--sources", metavar="PATH",
                     help="crawl these sources too (default: ./sources.yaml or ./sources/ when present)")
    run.add_argument("--no-crawl", action="store_true", help="only the stream steps, no crawling")
    _common(run)
    run.set_defaults(run=run_all)


def _common(parser) -> None:
    parser.add_argument("--batch", type=int, default=500, help="records per batch (default 500)")
    parser.add_argument("--min-level", type=int, default=1, choices=range(4),
                        help="alert step: lowest level put on the alert queue (default 1)")
    parser.add_argument("--until-idle", action="store_true",
                        help="stop when no record has arrived for a few seconds (batch jobs, tests)")
    parser.add_argument("--model", metavar="VERSION", help="classify step: model version")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum, _frame):
        log.warning("signal %s: finishing the current batch, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _serve_metrics(args: argparse.Namespace) -> None:
    if args.metrics_port:
        from pipeline import metrics

        metrics.serve(args.metrics_port)
        print(f"metrics: http://127.0.0.1:{args.metrics_port}/metrics")


def build_worker(name: str, args: argparse.Namespace, bus, settings, count):
    from pipeline import flow

    topic, default_group = flow.STEPS[name]
    if name == "classify":
        from crawlers.normalize.dedup import StoryClusters
        from pipeline.cli.classify_cmd import open_scorer

        settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        stories = StoryClusters(settings.paths.data_dir / "stories.sqlite3")
        step = flow.classify_step(bus, open_scorer(args), count, stories)
    elif name == "intake":
        from alerting.app import open_service
        from alerting.intake import intake_step

        step = intake_step(bus, open_service(settings), count)
    elif name == "index":
        from pipeline.backends import open_index

        step = flow.index_step(bus, open_index(settings), count)
    else:
        step = flow.alert_step(bus, count, args.min_level)
    # Only `yuqing worker` takes --group: in `yuqing run` the index and alert steps read the same
    # topic, and one group for both would split its partitions between them.
    group = getattr(args, "group", None) or default_group
    return flow.Worker(bus, topic, group, step, batch_size=args.batch,
                       idle_s=3.0 if args.until_idle else 1.0, name=name)


def run_worker(args: argparse.Namespace) -> int:
    from pipeline import flow
    from pipeline.backends import open_bus
    from pipeline.cli.main import settings_from

    settings = settings_from(args)
    _serve_metrics(args)
    bus = open_bus(settings)
    count = flow.StepCount()
    stop = _stop_on_signals()
    try:
        build_worker(args.step, args, bus, settings, count).run(stop, until_idle=args.until_idle)
    finally:
        bus.close()
    print(f"{args.step}: read {count.read}, written {count.written}, dead letters {count.dead}, "
          f"dropped {sum(count.dropped.values())}")
    return 0


def run_all(args: argparse.Namespace) -> int:
    from pipeline import flow
    from pipeline.backends import open_bus
    from pipeline.cli.main import settings_from

    settings = settings_from(args)
    _serve_metrics(args)
    bus = open_bus(settings)
    stop = _stop_on_signals()
    counts = {name: flow.StepCount() for name in flow.STEPS}
    workers = {name: build_worker(name, args, bus, settings, counts[name]) for name in flow.STEPS}
    threads = [threading.Thread(target=w.run, args=(stop,), kwargs={"until_idle": args.until_idle},
                                name=f"yuqing-{name}", daemon=True)
               for name, w in workers.items()]
    crawling = None if args.until_idle or args.no_crawl else _crawl_thread(args, settings, bus, stop)
    if crawling is not None:
        threads.append(crawling)
    if not args.until_idle:
        # reminders, escalations and notifications go out while the stream runs
        from alerting.app import BriefingJob, open_service
        from alerting.intake import Ticker

        service = open_service(settings)
        ticker = Ticker(service, jobs=[BriefingJob(settings, service)])
        threads.append(threading.Thread(target=ticker.run, args=(stop,), name="yuqing-ticker", daemon=True))
    print(f"yuqing run: {'crawl, ' if crawling else ''}{', '.join(flow.STEPS)} on bus {settings.bus.url}; "
          "Ctrl-C to stop")
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.5)
    finally:
        stop.set()
        bus.close()
    for name, c in counts.items():
        print(f"{name}: read {c.read}, written {c.written}, dead letters {c.dead}")
    return 0


def _crawl_thread(args, settings, bus, stop: threading.Event) -> threading.Thread | None:
    """The crawl service on its own thread, publishing to the same bus; None without sources."""
    from crawlers.fetch import Fetcher
    from crawlers.politeness import Politeness
    from crawlers.service import CrawlService, SourceWatcher
    from crawlers.snapshots import SnapshotStore
    from crawlers.state import StateStore
    from pipeline.cli.sources_cmd import default_sources_path
    from pipeline.errors import ConfigError

    try:
        path = default_sources_path(args.sources)
    except ConfigError:
        if args.sources:
            raise
        print("yuqing run: no sources.yaml here, so no crawling (give --sources PATH)")
        return None
    watcher = SourceWatcher(path)  # an invalid file stops the start with FILE:LINE problems
    data = settings.paths.data_dir
    data.mkdir(parents=True, exist_ok=True)

    def crawl() -> None:
        state = StateStore(data / "crawl_state.sqlite3")
        try:
            with Fetcher(SnapshotStore(data / "snapshots"), Politeness(1.0)) as fetcher:
                CrawlService(watcher, bus, state, fetcher).run_forever(stop)
        finally:
            state.close()

    return threading.Thread(target=crawl, name="yuqing-crawl", daemon=True)
