"""``yuqing demo``: the whole pipeline on a small local web, and what it found.

A demo web (three sites in the shape of real ones, built from samples/demo_articles.jsonl) is
served on loopback; the real crawler polls it once and publishes to ``articles.raw``; the
classify step clusters and scores, the index step indexes, the alert step queues the matches.
With ``--input FILE.jsonl`` the articles are published directly instead of crawled. It runs on
whatever the settings name: the embedded default with no servers, or Kafka and Elasticsearch
(``--bus-url kafka://... --index-url http://...``).
"""

from __future__ import annotations

import argparse
from collections import Counter

from alerting.access import SYSTEM
from alerting.config import STATE_LABELS
from alerting.messages import time_left
from alerting.routing import LEVEL_NAMES
from alerting.service import AlertService
from crawlers.service import SourceWatcher
from crawlers.testing import FixtureServer
from pipeline.config import describe
from pipeline.errors import RecordError
from pipeline.flow import StepCount, publish_articles
from pipeline.index import Query
from pipeline.jsonl import read_articles
from pipeline.records import Article
from yuqing.app import Application
from yuqing.cli.common import settings_from
from yuqing.cli.search import format_hit
from yuqing.demo.site import build_site, sources_yaml


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="FILE.jsonl",
                        help="publish these articles instead of crawling the demo web (JSON Lines: "
                        "content or text, and title, id, source_id, url, published, author)")
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")
    parser.set_defaults(run=run)


def load_articles(lines: list[str], name: str) -> tuple[list[Article], list[RecordError]]:
    """Articles from JSON Lines; a bad line is reported as ``name:LINE: why`` and skipped."""
    articles, problems = [], []
    for item in read_articles(lines, name):
        if isinstance(item, RecordError):
            problems.append(item)
        else:
            articles.append(item.article())
    return articles, problems


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    problems = []
    if args.input:
        with open(args.input, encoding="utf-8") as f:
            articles, problems = load_articles(f.read().splitlines(), args.input)
        for problem in problems:
            print(f"skipped {problem}")

    print(f"yuqing demo — {describe(settings)}")
    app = Application(settings, model=args.model)
    print(f"classifier: {app.scorer.version} with the shipped keyword schemes")
    try:
        if args.input:
            published = publish_articles(app.bus, articles)
        else:
            published = crawl_demo_web(app)
        scored = app.drain("classify")
        indexed = app.drain("index")
        alerted = app.drain("alert")
        app.index.refresh()
        taken = app.drain("intake")
        app.service.tick()

        print(f"published {published} articles to articles.raw; classified {scored.written} "
              f"({scored.dropped.get('duplicate', 0)} exact reposts dropped); indexed "
              f"{indexed.written}; queued {alerted.written} alerts (level ≥ 1); dead letters "
              f"{scored.dead + indexed.dead + alerted.dead}; the index holds {app.index.count()} documents")
        warn = app.index.search(Query(min_level=2, sort="level", limit=10))
        print(f"\nlevel ≥ 2 (warn the propaganda department): {warn.total}")
        for hit in warn.hits:
            print(format_hit(hit.article))
            print(f"      why: {'、'.join(hit.article.explanation)}")
        for words in ("纪委", "监察", "八项规定"):
            found = app.index.search(Query(text=words, limit=3))
            print(f"\nsearch {words!r}: {found.total} found")
            for hit in found.hits:
                print(format_hit(hit.article))
        show_alert_queue(app.service, taken)
    finally:
        app.close()
    print(f"\nnext: .venv/bin/yuqing login NAME, then yuqing alerts list | show ID | judge ID --note ...  "
          f"(the workflow; yuqing console --demo prints demo accounts)"
          f"\n      .venv/bin/yuqing search 关键词 [--min-level 2] [--department 案管室] "
          f"[--export 结果.xlsx]\n      .venv/bin/yuqing run   (the stream steps, until Ctrl-C)\n"
          f"      data in {settings.paths.data_dir}")
    return 1 if problems else 0


def show_alert_queue(service: AlertService, taken: StepCount) -> None:
    """The alert queue the propaganda department now works through, with time left."""
    queue = service.queue(SYSTEM)
    now = service.clock.now()
    kinds = Counter(a.trigger for a, _ in queue)
    # what the alerts are: a story's own, or a spike of articles naming a watched place or unit
    what = [f"{kinds[trigger]} {one if kinds[trigger] == 1 else many}"
            for trigger, one, many in (("content", "story", "stories"), ("volume", "volume spike", "volume spikes"))
            if kinds[trigger]]
    what += [f"{n} {trigger}" for trigger, n in kinds.items() if trigger not in ("content", "volume")]
    print(f"\nalert queue: {taken.read} queued articles → {len(queue)} open "
          f"alert{'' if len(queue) == 1 else 's'}" + (f" ({', '.join(what)})" if what else ""))
    for a, deadline in queue[:12]:
        left = f"  {deadline.label}：{time_left(deadline.due_at, now)}" if deadline else ""
        print(f"  {a.id} 【{LEVEL_NAMES[a.level]}】{STATE_LABELS[a.state]} {a.office}{left}  {a.title[:40]}")


def crawl_demo_web(app: Application) -> int:
    """Serve the demo web on loopback, poll its three sources once; returns articles published."""
    demo = app.data_dir / "demo-web"
    build_site(demo / "site")
    with FixtureServer(demo / "site") as server:
        sources = demo / "sources.yaml"
        sources.write_text(sources_yaml(server.url("").rstrip("/")), encoding="utf-8")
        with app.crawl_service(SourceWatcher(sources), host_delay=0.0, workers=3,
                               state_file="demo-crawl-state.sqlite3") as crawler:
            outcomes = crawler.run_once()
    for o in outcomes:
        print(f"  crawled {o.source_id}: {o.status}, {o.error or f'{o.published} new articles'}")
    return sum(o.published for o in outcomes)
