"""``yuqing demo``: push the sample articles through the bus into the index and show what was found.

It runs on whatever the settings name: the embedded default with no servers, or Kafka and
Elasticsearch (``--bus-url kafka://... --index-url http://...``).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from importlib import resources

from pipeline.errors import RecordError


def register(sub) -> None:
    parser = sub.add_parser("demo", help="run sample articles through bus → classifier → index")
    parser.add_argument("--input", metavar="FILE.jsonl",
                        help="articles to use instead of the samples (source_id, url, title, "
                        "content, published)")
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

    settings = settings_from(args)
    if args.input:
        with open(args.input, encoding="utf-8") as f:
            lines, name = f.read().splitlines(), args.input
    else:
        sample = resources.files("pipeline") / "samples" / "demo_articles.jsonl"
        lines, name = sample.read_text(encoding="utf-8").splitlines(), "samples/demo_articles.jsonl"
    articles, problems = load_articles(lines, name)
    for problem in problems:
        print(f"skipped {problem}")

    print(f"yuqing demo — {describe(settings)}")
    scorer = open_scorer(args)
    print(f"classifier: {scorer.version} with the shipped keyword schemes")
    bus = open_bus(settings)
    index = open_index(settings)
    try:
        published = flow.publish_articles(bus, articles)
        settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        stories = StoryClusters(settings.paths.data_dir / "stories.sqlite3")
        scored = flow.classify(bus, scorer, stories=stories)
        indexed = flow.index_scored(bus, index)
        index.refresh()
    finally:
        bus.close()

    print(f"published {published} articles to articles.raw; classified {scored.written}; "
          f"indexed {indexed.written}; dead letters {scored.dead + indexed.dead}; "
          f"index now holds {index.count()} documents")
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
    print("\nnext: yuqing search 关键词 [--min-level 2] [--department 案管室]  (same settings)")
    return 1 if problems else 0
