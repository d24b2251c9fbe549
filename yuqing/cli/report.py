"""``yuqing report daily|weekly|range``: the briefing (例会通报) as HTML and PDF; and its approval.

    yuqing report daily                 yesterday (Beijing time)
    yuqing report daily --date 2026-11-26
    yuqing report weekly [--date D]     the week (Monday to Sunday) containing D; default last week
    yuqing report range --from 2026-11-01 --to 2026-11-30
    yuqing report approve NAME [--note 批示]      (logged in as the 组长: yuqing login)
    yuqing report return NAME --note 退回意见
    yuqing report accountability --from 2026-11-01 --to 2026-11-30   (迟报漏报情况, the 组长)
    yuqing report special ALERT_ID [--kind 首报|续报|结报] [--next 下一步工作 ...] [--out DIR]

Files go to ``DATA_DIR/briefings/`` (or ``--out DIR``), named like ``舆情日报-2026-11-26.pdf``;
``--png`` adds a picture of page 1. The ticker (``yuqing run``, ``yuqing alerts tick --loop``) makes
the daily and weekly ones on schedule (``briefings`` in alerting.yaml).

``approve`` and ``return`` are the leading group's review (通报审批), NAME being the file name
without ``.html``/``.pdf``. Who acts is the account of ``yuqing login``; only the leading group
(a leader or admin account) may decide, and the decision is written to the audit log.
``accountability`` (:mod:`alerting.accountability`) is the leading group's too: HTML, PDF and XLSX.
``special`` is the 舆情专报 of one alert (:mod:`alerting.special`) as DOCX and PDF, made by the
协调小组办公室 and recorded in the audit log; sources are named from the crawl sources file
(``--sources``, else ./sources.yaml, ./sources/ or the demo's).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from alerting import accountability
from alerting.briefing.special import SPECIAL_KINDS
from crawlers.sources import load_sources
from alerting.reports import gather, period, write_briefing
from alerting.reviews import REVIEW_LABELS
from pipeline.errors import ConfigError
from pipeline.records import beijing_minute
from yuqing.app import Application
from yuqing.cli.identity import acting, actor_options
from yuqing.cli.common import settings_from


def configure(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, help in (("daily", "one day, default yesterday"), ("weekly", "one week, default last week"),
                       ("range", "--from D --to D, both included")):
        p = kinds.add_parser(kind, help=help)
        if kind == "range":
            p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD", required=True)
            p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD", required=True)
        else:
            p.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD")
        p.add_argument("--out", type=Path, metavar="DIR", help="default: DATA_DIR/briefings")
        p.add_argument("--png", action="store_true", help="also a PNG of page 1")
        p.set_defaults(run=run, date=None, start=None, end=None)
    for decision, help in (("approve", "批准 a briefing (the leading group, logged in as leader)"),
                           ("return", "退回 a briefing for rework, saying what to change (--note)")):
        p = kinds.add_parser(decision, help=help)
        p.add_argument("name", metavar="NAME", help="the briefing's file name without .html/.pdf, "
                       "e.g. 舆情日报-2026-11-26")
        p.add_argument("--note", required=decision == "return", default="",
                       help="what to rework" if decision == "return" else "批示 (optional)")
        p.add_argument("--dir", type=Path, metavar="DIR", help="the briefings folder (default: DATA_DIR/briefings)")
        actor_options(p)
        p.set_defaults(run=run_review)
    p = kinds.add_parser("accountability", help="迟报漏报情况: every late or missed report and verification "
                         "by office and person (HTML, PDF, Excel; the leading group)")
    p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD", required=True)
    p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD", required=True)
    p.add_argument("--out", type=Path, metavar="DIR", help="default: DATA_DIR/briefings")
    actor_options(p)
    p.set_defaults(run=run_accountability)
    p = kinds.add_parser("special", help="舆情专报 of one alert (首报, 续报, 结报) as DOCX and PDF, to send upward")
    p.add_argument("alert_id", metavar="ALERT_ID")
    p.add_argument("--kind", choices=SPECIAL_KINDS, default="首报")
    p.add_argument("--next", action="append", metavar="TEXT",
                   help="下一步工作, one line each (default: drafted from the open tasks, reports and receipts)")
    p.add_argument("--sources", type=Path, metavar="PATH", help="crawl sources file, for the sources' names")
    p.add_argument("--out", type=Path, metavar="DIR", help="default: DATA_DIR/special-reports")
    actor_options(p)
    p.set_defaults(run=run_special)


def run(args) -> int:
    try:
        start, end, prev_start, prev_end = period(args.kind, args.date, args.start, args.end)
    except ValueError as exc:
        raise ConfigError(f"yuqing report {args.kind}: {exc}") from None
    settings = settings_from(args)
    with Application(settings) as app:
        service = app.service
        data = gather(service.store, service.config, args.kind, start, end, prev_start, prev_end,
                      service.clock.now(), app.index)
    written = write_briefing(data, args.out or settings.paths.data_dir / "briefings", png=args.png,
                             anchor_file=settings.store.audit_anchors)
    for path in (written.html, written.pdf, written.png):
        if path:
            print(path)
    return 0


def run_accountability(args) -> int:
    try:
        start, end, _, _ = period("range", start=args.start, end=args.end)
    except ValueError as exc:
        raise ConfigError(f"yuqing report accountability: {exc}") from None
    settings = settings_from(args)
    with acting(args, read_only=True) as (service, actor):
        service.access.require_leader(actor, "read the accountability report (迟报漏报情况)")
        data = accountability.gather(service.store, service.config, start, end, service.clock.now())
    written = accountability.write_accountability(data, args.out or settings.paths.data_dir / "briefings")
    for path in (written.html, written.pdf, written.xlsx):
        print(path)
    print(f"{len(data.lapses)} late or missed duties")
    return 0


def run_review(args) -> int:
    folder = args.dir or settings_from(args).paths.data_dir / "briefings"
    with acting(args) as (service, actor):
        decide = service.approve_briefing if args.kind == "approve" else service.return_briefing
        review = decide(args.name, actor, folder, args.note)
    print(f"{review.name}: {REVIEW_LABELS[review.state]} ({review.state}) by {review.actor} "
          f"at {beijing_minute(review.at)}" + (f": {review.note}" if review.note else ""))
    return 0


def source_names(given: Path | None, data_dir: Path) -> dict[str, str]:
    """Source id → name from the crawl sources file (``given``, else the usual places); {} when
    there is none (the ids are printed then)."""
    candidates = [given] if given else [Path("sources.yaml"), Path("sources"), data_dir / "demo-web" / "sources.yaml"]
    for path in candidates:
        if path.exists():
            return {s.id: s.name for s in load_sources(path).sources}
    if given:
        raise ConfigError(f"--sources {given}: no such file or folder")
    return {}


def run_special(args) -> int:
    settings = settings_from(args)
    names = source_names(args.sources, settings.paths.data_dir)
    with acting(args) as (service, actor):
        written = service.special_report(args.alert_id, actor, args.kind,
                                         args.out or settings.paths.data_dir / "special-reports", names, args.next)
    print(written.docx)
    print(written.pdf)
    return 0
