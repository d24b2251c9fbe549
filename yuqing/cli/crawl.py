"""``yuqing crawl``: run the crawl service (pollers and spiders) and publish to ``articles.raw``.

Thin: the work is in ``crawlers.service``; :meth:`yuqing.app.Application.crawl_service` builds it.
"""

from __future__ import annotations

import argparse
import signal
import threading

from crawlers.service import SourceWatcher, parse_shard
from pipeline.errors import UsageError
from yuqing.app import Application
from yuqing.cli.common import crawl_options, settings_from
from yuqing.cli.progress import Progress
from yuqing.cli.sources import default_sources_path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Polls every enabled source on its interval and publishes new articles to "
        "articles.raw on the configured bus. Editing the sources file takes effect within a few "
        "seconds; an invalid edit is reported and the last valid sources keep running. Start one "
        "process per machine with --shard I/N to share the sources between N machines.")
    parser.add_argument("--sources", metavar="PATH",
                        help="sources YAML file or folder (default: ./sources.yaml or ./sources/)")
    parser.add_argument("--once", action="store_true",
                        help="poll every enabled source once, then exit (1 if a source or an "
                        "article page failed); a progress bar on a terminal, a status line a "
                        "minute otherwise")
    parser.add_argument("--shard", metavar="I/N", default="0/1",
                        help="take only the sources whose id hashes to I modulo N (default 0/1)")
    crawl_options(parser)
    parser.add_argument("--no-scrapy", action="store_true",
                        help="crawl html sources with the built-in poller instead of Scrapy")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        shard = parse_shard(args.shard)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = settings_from(args)
    watcher = SourceWatcher(default_sources_path(args.sources))  # ConfigError -> exit code 2
    data = settings.paths.data_dir
    html_runner = None
    if not args.no_scrapy:
        # deferred: Scrapy and Twisted take about a second to import, and --no-scrapy needs neither
        from crawlers.poll import RetryPolicy
        from crawlers.spider import BusSpec, ScrapyRunner

        html_runner = ScrapyRunner(BusSpec(settings.bus.url, settings.bus.partitions,
                                           settings.bus.topic_prefix),
                                   data / "crawl_state.sqlite3", data / "snapshots",
                                   default_rate=settings.crawl.rate_limit_per_minute,
                                   retry=RetryPolicy(settings.crawl.page_attempts, settings.crawl.page_retry_s))
    with Application(settings) as app:  # BackendUnavailable -> exit code 3
        # --workers and --host-delay are in the settings already (settings_from)
        with app.crawl_service(watcher, shard=shard, html_runner=html_runner) as service:
            if args.once:
                return _once(service)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with watched(service):
                try:
                    service.run_forever(stop)
                except KeyboardInterrupt:
                    stop.set()
            return 0


def _once(service) -> int:
    """One round of every source, with progress; the summary counts every failure."""
    with Progress(len(service.sources()), "crawl", "sources",
                  counters=("articles", "failed")) as progress:
        service.on_outcome = lambda o: progress.advance(1, failed=o.failed)
        service.on_article = lambda _source: progress.count("articles")
        outcomes = service.run_once()
    for o in outcomes:
        if o.error:
            print(f"{o.source_id}: {o.status}: {o.error}")
        elif o.page_failures:
            print(f"{o.source_id}: {o.status}: {o.published} new, {o.page_failures} article "
                  "pages failed (tried again next round)")
        for line in o.gave_up:
            print(line)
    failed = sum(1 for o in outcomes if o.error)
    pages = sum(o.page_failures for o in outcomes)
    gave_up = sum(len(o.gave_up) for o in outcomes)
    print(f"{len(outcomes)} sources polled, {sum(o.published for o in outcomes)} articles "
          f"published, {failed} sources failed, {pages} article pages failed "
          f"(kept for a retry), {gave_up} given up")
    return 1 if failed or pages or gave_up else 0


def watched(service) -> Progress:
    """A status line a minute while the service runs for good: source rounds, articles
    published, rounds with a failure, since the start."""
    progress = Progress(None, "crawl", "source rounds", bar=False, counters=("articles", "failed"))
    service.on_outcome = lambda o: progress.advance(1, failed=o.failed)
    service.on_article = lambda _source: progress.count("articles")
    return progress
