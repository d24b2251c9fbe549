"""``yuqing run``: crawling, every stream step and the clocks in one process, until stopped.

The embedded default's way to run the whole system on one machine: a thread for the crawler, one
for each step of :data:`yuqing.app.STEPS`, one for the ticker (reminders, escalations,
deliveries, scheduled briefings). SIGTERM or Ctrl-C finishes the batches in hand and exits.

When one of these threads dies (an exception outside any one record: a bug in a step's batch
code, a bus error that is not ``BackendUnavailable``), the others are stopped as by SIGTERM and
the process exits non-zero, naming the thread and the error: 1, or the error's own exit code
(3 for a backend). It does not restart the thread itself. A thread that died outside a record
would meet the same uncommitted batch and, most likely, the same error again: restarting it
here would make a loop that looks alive while the stream waits, which is the state this
prevents (a process up and deaf). Exiting hands the decision to the supervisor that runs
``yuqing run`` (``restart: on-failure`` in deploy/docker-compose.yml, systemd's
``Restart=on-failure``), which restarts the whole process with its own growing delay, and makes
the failure visible where operators look for it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import Callable

from crawlers.service import SourceWatcher
from pipeline.errors import YuqingError
from pipeline.flow import StepCount
from yuqing.app import STEPS, Application
from yuqing.cli.common import crawl_options, stop_on_signals
from yuqing.cli.crawl import watched
from yuqing.cli.sources import found_sources_path
from yuqing.cli.worker import application, idle_s, step_options

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", metavar="PATH",
                        help="crawl these sources too (default: ./sources.yaml or ./sources/ when present)")
    parser.add_argument("--no-crawl", action="store_true", help="only the stream steps, no crawling")
    crawl_options(parser)
    step_options(parser)
    parser.set_defaults(run=run)


class Supervised:
    """The threads of ``yuqing run`` under one ``stop`` event: :meth:`add` a named target,
    :meth:`start` them all, :meth:`wait` until all have ended. The first target to raise sets
    ``stop`` (the others finish their batch in hand and end) and is kept in :attr:`failure` as
    ``(name, exception)``; see the module docstring for why nothing is restarted."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.threads: list[threading.Thread] = []
        self.failure: tuple[str, BaseException] | None = None
        self._lock = threading.Lock()

    def add(self, name: str, target: Callable[[], None]) -> None:
        def body() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - any death of a thread stops the process
                log.error("%s stopped: %s: %s; stopping the others", name, type(exc).__name__, exc,
                          exc_info=not isinstance(exc, YuqingError))
                with self._lock:
                    if self.failure is None:
                        self.failure = (name, exc)
                self.stop.set()

        self.threads.append(threading.Thread(target=body, name=f"yuqing-{name}", daemon=True))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def wait(self) -> None:
        for t in self.threads:
            while t.is_alive():
                t.join(timeout=0.5)

    def exit_code(self) -> int:
        """0, or the failed thread's: its error's own code for ours (3 for a backend), 1 else."""
        if self.failure is None:
            return 0
        exc = self.failure[1]
        return exc.exit_code if isinstance(exc, YuqingError) else 1


def run(args: argparse.Namespace) -> int:
    stop = stop_on_signals()
    app = application(args)
    counts = {name: StepCount() for name in STEPS}
    threads = Supervised(stop)
    # Each step in its own consumer group (its name): the index and alert steps read the same
    # topic, and one group for both would split its partitions between them.
    for name in STEPS:
        worker = app.worker(name, counts[name], batch_size=args.batch, idle_s=idle_s(args))
        threads.add(name, lambda w=worker: w.run(stop, until_idle=args.until_idle))
    # --sources, else ./sources.yaml or ./sources/: what is crawled, and how briefings name sources
    sources = found_sources_path(args.sources)
    crawling = None if args.until_idle or args.no_crawl else _crawl(sources, app, stop)
    if crawling is not None:
        threads.add("crawl", crawling)
    if not args.until_idle:
        # reminders, escalations and notifications go out while the stream runs
        ticker = app.ticker(sources=sources)
        threads.add("ticker", lambda: ticker.run(stop))
    print(f"yuqing run: {'crawl, ' if crawling else ''}{', '.join(STEPS)} on bus {app.settings.bus.url}; "
          "Ctrl-C to stop", flush=True)
    threads.start()
    try:
        threads.wait()
    finally:
        stop.set()
        app.close()
    for name, c in counts.items():
        print(f"{name}: read {c.read}, written {c.written}, dead letters {c.dead}")
    if threads.failure is not None:
        name, exc = threads.failure
        print(f"yuqing run: {name} stopped: {type(exc).__name__}: {exc}; the other threads were "
              "stopped after their batches in hand. Start yuqing run again once the cause is "
              "fixed (under a supervisor it is restarted); uncommitted records are read again",
              file=sys.stderr)
    return threads.exit_code()


def _crawl(path: Path | None, app: Application, stop: threading.Event) -> Callable[[], None] | None:
    """The crawl service of the sources at ``path``, to run on a thread of its own, publishing
    to the same bus; None without sources."""
    if path is None:
        print("yuqing run: no sources.yaml here, so no crawling (give --sources PATH)")
        return None
    watcher = SourceWatcher(path)  # an invalid file stops the start with FILE:LINE problems

    def crawl() -> None:
        with app.crawl_service(watcher) as service, watched(service):
            service.run_forever(stop)

    return crawl
