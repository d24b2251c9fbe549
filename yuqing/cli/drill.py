"""``yuqing drill``: 演练, the office practising the response on a marked alert, on the real clock.

    yuqing drill start --scenario 情景 [--level 重大] [--office 宣传部]
        opens the drill alert: 【演练】 in its title, the clocks of its level running from now; the
        offices then work it with the usual commands (yuqing alerts judge/warn/report/consult ...,
        or the console), each step against its real deadline
    yuqing drill report ALERT_ID [--out DIR]
        演练报告: what was done, when and by whom, against which deadline, the late steps
        (Markdown, printed and written to DIR, default DATA_DIR/briefings)

A drill is left out of briefings and the accountability report, its upward reports are recorded
inside the commission only and reach no upward unit (:mod:`alerting.drills`). Starting one is for
the coordinating office and the coordinating group (yuqing login).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alerting.drills import render_text
from alerting.handins import LEVEL_WORDS
from alerting.routing import LEVEL_NAMES
from pipeline.errors import ConfigError
from yuqing.cli.common import settings_from
from yuqing.cli.identity import acting, actor_options


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("start", help="open a drill alert; then work it with yuqing alerts ...")
    p.add_argument("--scenario", required=True, help="the invented item the drill starts from")
    p.add_argument("--level", choices=tuple(LEVEL_WORDS), default="重大")
    p.add_argument("--office", help="the office that handles it (default: the coordinating office)")
    actor_options(p)
    p.set_defaults(run=run_start)
    p = actions.add_parser("report", help="演练报告: steps, deadlines and late steps of a drill")
    p.add_argument("alert_id", metavar="ALERT_ID")
    p.add_argument("--out", type=Path, metavar="DIR", help="default: DATA_DIR/briefings")
    actor_options(p)
    p.set_defaults(run=run_report)


def run_start(args) -> int:
    with acting(args) as (service, actor):
        office = args.office or service.config.coordinating_office
        try:
            alert_id = service.start_drill(args.scenario, LEVEL_WORDS[args.level], office, actor)
        except ValueError as exc:
            raise ConfigError(f"yuqing drill start: {exc}") from None
        detail = service.show(alert_id, actor)
    print(f"{alert_id} {detail.alert.title}  【{LEVEL_NAMES[detail.alert.level]}】 {detail.alert.office}")
    for d in detail.deadlines:
        print(f"  时限 {d.label}  {d.due_at.isoformat(timespec='minutes')}")
    print(f"work it as a real alert: yuqing alerts judge {alert_id} --note ...; "
          f"afterwards: yuqing drill report {alert_id}")
    return 0


def run_report(args) -> int:
    folder = args.out or settings_from(args).paths.data_dir / "briefings"
    with acting(args, read_only=True) as (service, actor):
        try:
            report = service.drill_report(args.alert_id, actor)
        except ValueError as exc:
            raise ConfigError(f"yuqing drill report: {exc}") from None
    text = render_text(report, LEVEL_NAMES)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"演练报告-{report.alert_id}-{report.made_at:%Y%m%d%H%M}.md"
    path.write_text(text, encoding="utf-8")
    print(text)
    print(path)
    return 0
