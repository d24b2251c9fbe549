"""``yuqing index prune --keep-months N``: retention of the search index.

Drops the articles of every month older than the last ``N`` whole months plus the current one
(on Elasticsearch whole monthly indices go; on the embedded index the rows). The default keeps
24 months, what the commission's review of past opinion needs; ``--dry-run`` says what would go.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pipeline.backends import open_index
from pipeline.errors import UsageError
from pipeline.index import Query
from yuqing.cli.common import settings_from


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    prune = actions.add_parser("prune", help="drop months older than --keep-months")
    prune.add_argument("--keep-months", type=int, default=24, metavar="N")
    prune.add_argument("--dry-run", action="store_true", help="only count what would be dropped")
    prune.set_defaults(run=run_prune)


def cutoff(now: datetime, keep_months: int) -> datetime:
    """The first day of the month ``keep_months`` months before ``now``'s month (UTC)."""
    total = now.year * 12 + (now.month - 1) - keep_months
    return datetime(total // 12, total % 12 + 1, 1, tzinfo=timezone.utc)


def run_prune(args) -> int:
    if args.keep_months < 1:
        raise UsageError("--keep-months must be at least 1")
    before = cutoff(datetime.now(timezone.utc), args.keep_months)
    index = open_index(settings_from(args))
    try:
        if args.dry_run:
            older = index.search(Query(until=before, limit=0)).total
            print(f"would drop {older} articles from before {before:%Y-%m-%d}")
            return 0
        dropped = index.prune(before)
    finally:
        index.close()
    print(f"dropped {dropped} articles from before {before:%Y-%m-%d} (keeping {args.keep_months} months)")
    return 0
