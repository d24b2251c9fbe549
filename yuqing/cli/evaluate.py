"""``yuqing eval extract DIR`` and ``yuqing eval feeds DIR``: measure extraction and feed handling
against saved pages and feeds with expected values.

The scoring lives in :mod:`crawlers.extract.evaluate` and :mod:`crawlers.evaluate_feeds`; this
module only prints. ``extract``: exit code 0 when the pages were scored (whatever the scores), 2
when DIR or its expected.jsonl is unusable. ``feeds``: exit code 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import logging

from crawlers.evaluate_feeds import evaluate_feeds
from crawlers.extract.evaluate import evaluate_dir
from yuqing.cli.progress import Progress

__all__ = ["configure", "format_report"]


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    feeds = actions.add_parser(
        "feeds", help="score feed parsing: item count, first title, link and date per feed",
        description="Parse every feed listed in DIR/expected.jsonl as the poller does and print, "
        "per feed, whether the item count, first title, first link and first date (to the "
        "minute) match. Exit code 1 when any check fails.")
    feeds.add_argument("dir", metavar="DIR", help="folder with expected.jsonl and the feed files")
    feeds.set_defaults(run=run_feeds)
    extract = actions.add_parser(
        "extract", help="score title, time and body start per page, ours beside trafilatura",
        description="Reads DIR/expected.jsonl (one object per page: file, title, published, "
        "body_start, category) and scores yuqing's extractor and trafilatura alone on each page "
        "(trafilatura asked for minute-precise dates with an extensive search). Columns: title, "
        "time to the minute, the same time to the day, body start.")
    extract.add_argument("directory", metavar="DIR", help="folder with expected.jsonl and the pages")
    extract.add_argument("--json", action="store_true", help="print the full report as JSON")
    extract.set_defaults(run=run_extract)


def run_extract(args: argparse.Namespace) -> int:
    if not args.verbose:  # trafilatura and our decoder warn per page; the table is the report
        logging.getLogger("trafilatura").setLevel(logging.ERROR)
    with Progress(None, "eval", "pages") as progress:
        report = evaluate_dir(args.directory, on_page=progress.advance)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def _pct(value: float) -> str:
    return f"{value * 100:5.1f}%"


def _marks(hits: dict[str, bool]) -> str:
    return " ".join(("✓" if hits[f] else "✗") for f in ("title", "time", "body"))


def format_report(report) -> str:
    """The report as a plain-text table: pages, then categories, then totals."""
    out = [f"{'page':<24} {'category':<8} {'ours (title time body)':<24} {'trafilatura':<12}"]
    for page in report.pages:
        out.append(f"{page.file:<24} {page.category:<8} {_marks(page.ours):<24} {_marks(page.baseline):<12}")
    out.append("")
    out.append(f"{'category':<10} {'pages':>5}   {'title':>17}   {'time (minute)':>17}   "
               f"{'(day only)':>17}   {'body start':>17}")
    out.append(f"{'':<10} {'':>5}" + f"   {'ours / trafil.':>17}" * 4)
    for category, scores in report.by_category().items():
        n = sum(1 for p in report.pages if p.category == category)
        out.append(_row(category, n, scores))
    out.append(_row("total", len(report.pages), report.totals()))
    return "\n".join(out)


def _row(name: str, n: int, scores: dict) -> str:
    cells = [f"{_pct(scores['ours'][f])} / {_pct(scores['baseline'][f])}"
             for f in ("title", "time", "day", "body")]
    return f"{name:<10} {n:>5}   " + "   ".join(cells)


def run_feeds(args: argparse.Namespace) -> int:
    report = evaluate_feeds(args.dir)
    print("\n".join(report.lines()))
    return 0 if all(s.ok for s in report.scores) else 1
