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
import json
from datetime import datetime
from pathlib import Path

from pipeline.errors import RecordError


def register(sub) -> None:
    parser = sub.add_parser("demo", help="run sample articles through bus → classifier → index")
    parser.add_argument("--input", metavar="FILE.jsonl",
                        help="publish these articles instead of crawling the demo web "
                        "(source_id, url, title, content, published)")
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")
    parser.set_defaults(run=run)


def load_articles(lines: list[str], name: str):
    """Articles from JSON Lines; a bad line is reported as ``name:LINE`` and skipped."""
    from pipeline.records import Article

    articles, problems = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            published = obj.get("published")
            articles.append(Article.create(
                source_id=obj["source_id"], url=obj["url"], title=obj.get("title", ""),
                content=obj["content"], author=obj.get("author"),
                published=datetime.fromisoformat(published) if published else None,
            ))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(RecordError(f"{name}:{number}", f"{type(exc).__name__}: {exc}"))
    return articles, problems


def run(args: argparse.Namespace) -> int:
    from crawlers.normalize.dedup import StoryClusters
    from pipeline import flow
    from pipeline.cli.classify_cmd import open_scorer
    from pipeline.backends import open_bus, open_index
    from pipeline.cli.main import settings_from
    from pipeline.cli.search import format_hit
    from pipeline.config import describe
    from pipeline.index import Query
    from alerting.app import open_service
    from alerting.intake import take_in

    settings = settings_from(args)
    problems = []
    if args.input:
        with open(args.input, encoding="utf-8") as f:
            articles, problems = load_articles(f.read().splitlines(), args.input)
        for problem in problems:
            print(f"skipped {problem}")

    print(f"yuqing demo — {describe(settings)}")
    scorer = open_scorer(args)
    print(f"classifier: {scorer.version} with the shipped keyword schemes")
    bus = open_bus(settings)
    index = open_index(settings)
    settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.input:
            published = flow.publish_articles(bus, articles)
        else:
            published = crawl_demo_web(bus, settings.paths.data_dir)
        stories = StoryClusters(settings.paths.data_dir / "stories.sqlite3")
        scored = flow.classify(bus, scorer, stories=stories)
        indexed = flow.index_scored(bus, index)
        alerted = flow.alert(bus)
        index.refresh()
        service = open_service(settings)
        taken = take_in(bus, service)
        service.tick()
    finally:
        bus.close()

    print(f"published {published} articles to articles.raw; classified {scored.written} "
          f"({scored.dropped.get('duplicate', 0)} exact reposts dropped); indexed "
          f"{indexed.written}; queued {alerted.written} alerts (level ≥ 1); dead letters "
          f"{scored.dead + indexed.dead + alerted.dead}; the index holds {index.count()} documents")
    try:
        warn = index.search(Query(min_level=2, sort="level", limit=10))
        print(f"\nlevel ≥ 2 (warn the propaganda department): {warn.total}")
        for hit in warn.hits:
            print(format_hit(hit.article))
            print(f"      why: {'、'.join(hit.article.explanation)}")
        for words in ("纪委", "监察", "八项规定"):
            found = index.search(Query(text=words, limit=3))
            print(f"\nsearch {words!r}: {found.total} found")
            for hit in found.hits:
                print(format_hit(hit.article))
    finally:
        index.close()
    show_alert_queue(service, taken)
    print(f"\nnext: .venv/bin/yuqing alerts list | show ID | judge ID --note ...   (the workflow)"
          f"\n      .venv/bin/yuqing search 关键词 [--min-level 2] [--department 案管室] "
          f"[--export 结果.xlsx]\n      .venv/bin/yuqing run   (the stream steps, until Ctrl-C)\n"
          f"      data in {settings.paths.data_dir}")
    return 1 if problems else 0


def show_alert_queue(service, taken) -> None:
    """The alert queue the propaganda department now works through, with time left."""
    from alerting.config import STATE_LABELS
    from alerting.messages import time_left
    from alerting.routing import LEVEL_NAMES
    from alerting.workflow import SYSTEM

    try:
        queue = service.queue(SYSTEM)
        now = service.clock.now()
    finally:
        service.store.close()
    print(f"\nalert queue: {taken.read} queued articles → {len(queue)} open alerts (one per story)")
    for a, deadline in queue[:12]:
        left = f"  {deadline.label}：{time_left(deadline.due_at, now)}" if deadline else ""
        print(f"  {a.id} 【{LEVEL_NAMES[a.level]}】{STATE_LABELS[a.state]} {a.office}{left}  {a.title[:40]}")


def crawl_demo_web(bus, data_dir: Path) -> int:
    """Serve the demo web on loopback, poll its three sources once; returns articles published."""
    from crawlers.fetch import Fetcher
    from crawlers.politeness import Politeness
    from crawlers.service import CrawlService, SourceWatcher
    from crawlers.snapshots import SnapshotStore
    from crawlers.state import StateStore
    from crawlers.testing import FixtureServer
    from pipeline.samples.site import build_site, sources_yaml

    demo = data_dir / "demo-web"
    build_site(demo / "site")
    with FixtureServer(demo / "site") as server:
        sources = demo / "sources.yaml"
        sources.write_text(sources_yaml(server.url("").rstrip("/")), encoding="utf-8")
        state = StateStore(data_dir / "demo-crawl-state.sqlite3")
        with Fetcher(SnapshotStore(data_dir / "snapshots"), Politeness(0.0)) as fetcher:
            service = CrawlService(SourceWatcher(sources), bus, state, fetcher, workers=3)
            outcomes = service.run_once()
    for o in outcomes:
        print(f"  crawled {o.source_id}: {o.status}, {o.error or f'{o.published} new articles'}")
    return sum(o.published for o in outcomes)
