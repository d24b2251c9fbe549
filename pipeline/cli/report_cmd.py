"""``yuqing report daily|weekly|range``: the briefing (例会通报) as HTML and PDF.

    yuqing report daily                 yesterday (Beijing time)
    yuqing report daily --date 2026-11-26
    yuqing report weekly [--date D]     the week (Monday to Sunday) containing D; default last week
    yuqing report range --from 2026-11-01 --to 2026-11-30

Files go to ``DATA_DIR/briefings/`` (or ``--out DIR``), named like ``舆情日报-2026-11-26.pdf``;
``--png`` adds a picture of page 1. The ticker (``yuqing run``, ``yuqing alerts tick --loop``) makes
the daily and weekly ones on schedule (``briefings`` in alerting.yaml).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser("report", help="例会通报: a daily, weekly or date-range briefing (HTML + PDF)")
    parser.add_argument("kind", choices=("daily", "weekly", "range"))
    parser.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    parser.add_argument("--out", type=Path, metavar="DIR", help="default: DATA_DIR/briefings")
    parser.add_argument("--png", action="store_true", help="also a PNG of page 1")
    parser.set_defaults(run=run)


def run(args) -> int:
    from alerting.app import open_service
    from alerting.reports import gather, period, write_briefing
    from pipeline.backends import open_index
    from pipeline.cli.main import settings_from
    from pipeline.errors import ConfigError

    try:
        start, end, prev_start, prev_end = period(args.kind, args.date, args.start, args.end)
    except ValueError as exc:
        raise ConfigError(f"yuqing report {args.kind}: {exc}") from None
    settings = settings_from(args)
    service = open_service(settings)
    index = open_index(settings)
    try:
        data = gather(service.store, service.config, args.kind, start, end, prev_start, prev_end,
                      service.clock.now(), index)
    finally:
        index.close()
        service.store.close()
    written = write_briefing(data, args.out or settings.paths.data_dir / "briefings", png=args.png)
    for path in (written.html, written.pdf, written.png):
        if path:
            print(path)
    return 0
