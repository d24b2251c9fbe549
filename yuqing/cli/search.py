"""``yuqing search QUERY``: search the index from the command line, as analysts do in Kibana."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pipeline.backends import open_index
from pipeline.export import export
from pipeline.index import MAX_WINDOW, Query
from pipeline.records import ScoredArticle, beijing_minute, beijing_time
from yuqing.cli.common import settings_from
from yuqing.cli.progress import Progress


def _when(value: str) -> datetime:
    """ISO date or date-time; without a zone it is Beijing time, as the office reads clocks."""
    try:
        return beijing_time(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="?", default="", help='words that must all occur; "quote" phrases')
    parser.add_argument("--since", type=_when, help="from this time (YYYY-MM-DD[THH:MM], Beijing time)")
    parser.add_argument("--until", type=_when, help="up to this time")
    parser.add_argument("--source", action="append", default=[], help="only this source id (repeatable)")
    parser.add_argument("--level", type=int, action="append", default=[], choices=range(4),
                        help="only this level (repeatable)")
    parser.add_argument("--min-level", type=int, choices=range(4), help="this level or higher")
    parser.add_argument("--department", action="append", default=[], help="only this office, e.g. 案管室")
    parser.add_argument("--sort", choices=["relevance", "newest", "oldest", "level"], default="relevance")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one JSON object per hit")
    parser.add_argument("--export", type=Path, metavar="FILE",
                        help="write every hit (up to 10,000) to FILE.csv or FILE.xlsx")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        query = Query(text=args.query, since=args.since, until=args.until,
                      sources=tuple(args.source), levels=tuple(args.level), min_level=args.min_level,
                      departments=tuple(args.department), sort=args.sort, offset=args.offset,
                      limit=args.limit)
    except ValueError as exc:
        print(f"yuqing search: {exc}")
        return 2
    if args.export and args.export.suffix.lower() not in (".csv", ".xlsx"):
        print(f"yuqing search: {args.export}: export to .csv or .xlsx")
        return 2
    if args.export and not args.export.resolve().parent.is_dir():
        print(f"yuqing search: {args.export}: no folder {args.export.resolve().parent}; create it first")
        return 2
    index = open_index(settings_from(args))
    try:
        result = index.search(query)
        if args.export:
            everything = index.search(replace(query, offset=0, limit=MAX_WINDOW))
            with Progress(len(everything.hits), "export", "articles") as progress:
                def rows():
                    for hit in everything.hits:
                        progress.advance()
                        yield hit.article
                written = export(rows(), args.export)
            more = f" (of {everything.total}; narrow the query for the rest)" \
                if everything.total > written else ""
            print(f"exported {written} articles to {args.export}{more}")
            return 0
    finally:
        index.close()
    if args.json:
        for hit in result.hits:
            print(json.dumps({"score": hit.score, **hit.article.model_dump(mode="json")},
                             ensure_ascii=False))
        return 0
    print(f"{result.total} found")
    for hit in result.hits:
        print(format_hit(hit.article))
    return 0


def format_hit(article: ScoredArticle) -> str:
    when = beijing_minute(article.published or article.fetched)
    title = article.title or article.content[:30]
    office = article.department or "-"
    return f"  [{article.level}] {when}  {office:<4} {title}  ({article.source_id})"
