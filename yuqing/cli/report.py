"""``yuqing report daily|weekly|range``: the briefing (例会通报) as HTML and PDF; and its approval.

    yuqing report daily                 yesterday (Beijing time)
    yuqing report daily --date 2026-11-26
    yuqing report weekly [--date D]     the week (Monday to Sunday) containing D; default last week
    yuqing report range --from 2026-11-01 --to 2026-11-30
    yuqing report edit NAME --measures 段落 [--measures 段落 ...] [--next-steps 段落 ...]
                                        the office's wording of 预控处置意见 / 下一步工作; the
                                        briefing is made again with it and waits for approval
    yuqing report approve NAME [--note 批示]      (logged in as the 组长: yuqing login)
    yuqing report return NAME --note 退回意见
    yuqing report accountability --from 2026-11-01 --to 2026-11-30   (迟报漏报情况, the 组长)
    yuqing report special ALERT_ID [--kind 首报|续报|结报] [--next 下一步工作 ...] [--out DIR]

Files go to ``DATA_DIR/briefings/`` (or ``--out DIR``), named like ``舆情日报-2026-11-26.pdf``;
``--png`` adds a picture of page 1; sources are named as in ``--sources PATH`` (default
./sources.yaml or ./sources/ when there is one), by id otherwise. The ticker (``yuqing run``, ``yuqing alerts tick --loop``) makes
the daily and weekly ones on schedule (``briefings`` in alerting.yaml).

``approve`` and ``return`` are the coordinating group's review (通报审批), NAME being the file name
without ``.html``/``.pdf``. Who acts is the account of ``yuqing login``; only the coordinating group
(a leader or admin account) may decide, and the decision is written to the audit log.
``accountability`` (:mod:`alerting.accountability`) is the coordinating group's too: HTML, PDF and XLSX.
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
from alerting.reports import gather, period, period_of, read_edits, stem, write_briefing, write_edits
from crawlers.sources import load_sources
from alerting.reviews import REVIEW_LABELS
from pipeline.errors import ConfigError
from pipeline.records import beijing_minute
from yuqing.app import Application
from yuqing.cli.identity import acting, actor_options
from yuqing.cli.common import settings_from
from yuqing.cli.sources import default_sources_path


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
        p.add_argument("--sources", metavar="PATH", help="sources.yaml, for the sources' names")
        p.set_defaults(run=run, date=None, start=None, end=None)
    p = kinds.add_parser("edit", help="word 预控处置意见 / 下一步工作 before the 组长 approves; "
                         "the briefing is made again")
    p.add_argument("name", metavar="NAME", help="the briefing's file name without .html/.pdf")
    p.add_argument("--measures", action="append", metavar="TEXT", help="a paragraph of 预控处置意见 (repeat)")
    p.add_argument("--next-steps", action="append", metavar="TEXT", help="a paragraph of 下一步工作 (repeat)")
    p.add_argument("--dir", type=Path, metavar="DIR", help="the briefings folder (default: DATA_DIR/briefings)")
    p.add_argument("--sources", metavar="PATH", help="sources.yaml, for the sources' names")
    actor_options(p)
    p.set_defaults(run=run_edit)
    for decision, help in (("approve", "批准 a briefing (the coordinating group, logged in as leader)"),
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
                         "by office and person (HTML, PDF, Excel; the coordinating group)")
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


def source_names(given: str | Path | None, data_dir: Path) -> dict[str, str]:
    """Source id -> name from the crawl sources file (``given``, else ./sources.yaml, ./sources/
    or the demo's under ``data_dir``); {} when there is none (the ids are shown then), an error
    when the file given cannot be read."""
    try:
        path = default_sources_path(str(given) if given else None)
    except ConfigError:
        path = data_dir / "demo-web" / "sources.yaml"
        if not path.exists():
            return {}
    if given and not path.exists():
        raise ConfigError(f"--sources {given}: no such file or folder")
    return load_sources(path).names


def make(args, kind: str, periods, folder: Path, png: bool = False):
    start, end, prev_start, prev_end = periods
    settings = settings_from(args)
    try:
        edits = read_edits(folder, stem(kind, start, end))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with Application(settings) as app:
        service = app.service
        names = source_names(args.sources, settings.paths.data_dir)
        data = gather(service.store, service.config, kind, start, end, prev_start, prev_end,
                      service.clock.now(), app.index, source_names=names, edits=edits)
    return write_briefing(data, folder, png=png, anchor_file=settings.store.audit_anchors)


def run(args) -> int:
    try:
        periods = period(args.kind, args.date, args.start, args.end)
    except ValueError as exc:
        raise ConfigError(f"yuqing report {args.kind}: {exc}") from None
    written = make(args, args.kind, periods, args.out or settings_from(args).paths.data_dir / "briefings", args.png)
    for path in (written.html, written.pdf, written.png):
        if path:
            print(path)
    return 0


def run_edit(args) -> int:
    if not args.measures and not args.next_steps:
        raise ConfigError("yuqing report edit: give --measures and/or --next-steps, one paragraph each")
    try:
        kind, periods = period_of(args.name)
    except ValueError as exc:
        raise ConfigError(f"yuqing report edit: {exc}") from None
    folder = args.dir or settings_from(args).paths.data_dir / "briefings"
    with acting(args) as (_, actor):  # who edits: an acting account of the office (yuqing login)
        pass
    edits = {key: value for key, value in (("measures", args.measures), ("next_steps", args.next_steps)) if value}
    print(write_edits(folder, args.name, edits))
    written = make(args, kind, periods, folder)
    print(written.html)
    print(written.pdf)
    print(f"{args.name}: edited by {actor.name}; {REVIEW_LABELS['pending']} (the 组长 approves: yuqing report approve)")
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


def run_special(args) -> int:
    settings = settings_from(args)
    names = source_names(args.sources, settings.paths.data_dir)
    with acting(args) as (service, actor):
        written = service.special_report(args.alert_id, actor, args.kind,
                                         args.out or settings.paths.data_dir / "special-reports", names, args.next)
    print(written.docx)
    print(written.pdf)
    return 0
