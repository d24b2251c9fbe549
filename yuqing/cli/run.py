"""``yuqing run``: crawling, every stream step and the clocks in one process, until stopped.

The embedded default's way to run the whole system on one machine: a thread for the crawler, one
for each step of :data:`yuqing.app.STEPS`, one for the ticker (reminders, escalations,
deliveries, scheduled briefings). SIGTERM or Ctrl-C finishes the batches in hand and exits.
"""

from __future__ import annotations

import argparse
import threading

from crawlers.service import SourceWatcher
from pipeline.errors import ConfigError
from pipeline.flow import StepCount
from yuqing.app import STEPS, Application
from yuqing.cli.common import stop_on_signals
from yuqing.cli.sources import default_sources_path
from yuqing.cli.worker import application, idle_s, step_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", metavar="PATH",
                        help="crawl these sources too (default: ./sources.yaml or ./sources/ when present)")
    parser.add_argument("--no-crawl", action="store_true", help="only the stream steps, no crawling")
    step_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stop = stop_on_signals()
    app = application(args)
    counts = {name: StepCount() for name in STEPS}
    # Each step in its own consumer group (its name): the index and alert steps read the same
    # topic, and one group for both would split its partitions between them.
    workers = {name: app.worker(name, counts[name], batch_size=args.batch, idle_s=idle_s(args))
               for name in STEPS}
    threads = [threading.Thread(target=w.run, args=(stop,), kwargs={"until_idle": args.until_idle},
                                name=f"yuqing-{name}", daemon=True)
               for name, w in workers.items()]
    crawling = None if args.until_idle or args.no_crawl else _crawl_thread(args, app, stop)
    if crawling is not None:
        threads.append(crawling)
    if not args.until_idle:
        # reminders, escalations and notifications go out while the stream runs
        threads.append(threading.Thread(target=app.ticker().run, args=(stop,), name="yuqing-ticker",
                                        daemon=True))
    print(f"yuqing run: {'crawl, ' if crawling else ''}{', '.join(STEPS)} on bus {app.settings.bus.url}; "
          "Ctrl-C to stop")
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.5)
    finally:
        stop.set()
        app.close()
    for name, c in counts.items():
        print(f"{name}: read {c.read}, written {c.written}, dead letters {c.dead}")
    return 0


def _crawl_thread(args: argparse.Namespace, app: Application, stop: threading.Event) -> threading.Thread | None:
    """The crawl service on its own thread, publishing to the same bus; None without sources."""
    try:
        path = default_sources_path(args.sources)
    except ConfigError:
        if args.sources:
            raise
        print("yuqing run: no sources.yaml here, so no crawling (give --sources PATH)")
        return None
    watcher = SourceWatcher(path)  # an invalid file stops the start with FILE:LINE problems
    return app.crawl_thread(watcher, stop)
