"""``yuqing consult ALERT_ID --task '标题|办公室|责任人|时限' ...``: an instant consultation (即时会商).

Each task names what is to be done, the office responsible, the person (may be empty) and the time
limit (``45m``, ``2h``; empty: ``clocks.task_default``). Overdue tasks escalate like alerts.
"""

from __future__ import annotations

import argparse

from alerting.workflow import TaskSpec
from pipeline.errors import UsageError
from yuqing.cli.alerts import parse_within
from yuqing.cli.identity import acting, actor_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("alert_id", metavar="ALERT_ID")
    parser.add_argument("--task", action="append", required=True, metavar="'标题|办公室|责任人|时限'",
                        help="repeat for each task, e.g. '核查补偿款台账|监督检查室|刘洋|45m'")
    actor_options(parser)
    parser.set_defaults(run=run)


def parse_task(text: str) -> TaskSpec:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(
            f"--task {text!r}: write '标题|办公室|责任人|时限' (责任人 and 时限 may be left empty)")
    parts += [""] * (4 - len(parts))
    return TaskSpec(title=parts[0], office=parts[1], person=parts[2], within=parse_within(parts[3] or None))


def run(args) -> int:
    try:
        specs = [parse_task(t) for t in args.task]
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    with acting(args) as (service, actor):
        created = service.consult(args.alert_id, actor, specs)
    for task_id, spec in zip(created, specs):
        print(f"task {task_id}: {spec.title} — {spec.office} {spec.person}".rstrip())
    return 0
