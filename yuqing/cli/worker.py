"""``yuqing worker classify|index|alert|intake``: one stream step as a process of its own.

A worker runs one step (:data:`yuqing.app.STEPS`) against the configured bus (Kafka in a
deployment): several instances of a step in one consumer group share its partitions, which is how
a deployment grows past one machine. SIGTERM or Ctrl-C finishes the batch in hand, commits it,
and exits. ``yuqing run`` (:mod:`yuqing.cli.run`) runs every step in one process instead.
"""

from __future__ import annotations

import argparse

from pipeline import metrics
from pipeline.flow import StepCount
from yuqing.app import STEPS, Application
from yuqing.cli.common import settings_from, stop_on_signals

__all__ = ["configure", "step_options", "application", "idle_s"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step", choices=list(STEPS))
    parser.add_argument("--group", help="consumer group (default: the step's name)")
    step_options(parser)
    parser.set_defaults(run=run)


def step_options(parser: argparse.ArgumentParser) -> None:
    """The options of every stream step (``yuqing worker`` and ``yuqing run``)."""
    parser.add_argument("--batch", type=int, default=500, help="records per batch (default 500)")
    parser.add_argument("--min-level", type=int, default=1, choices=range(4),
                        help="alert step: lowest level put on the alert queue (default 1)")
    parser.add_argument("--until-idle", action="store_true",
                        help="stop when no record has arrived for a few seconds (batch jobs, tests)")
    parser.add_argument("--model", metavar="VERSION", help="classify step: model version")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")


def application(args: argparse.Namespace) -> Application:
    """The application the step options describe; serves metrics when asked."""
    if args.metrics_port:
        metrics.serve(args.metrics_port)
        print(f"metrics: http://127.0.0.1:{args.metrics_port}/metrics")
    return Application(settings_from(args), model=args.model, min_level=args.min_level)


def idle_s(args: argparse.Namespace) -> float:
    return 3.0 if args.until_idle else 1.0


def run(args: argparse.Namespace) -> int:
    count = StepCount()
    stop = stop_on_signals()
    with application(args) as app:
        worker = app.worker(args.step, count, group=args.group, batch_size=args.batch,
                            idle_s=idle_s(args))
        worker.run(stop, until_idle=args.until_idle)
    print(f"{args.step}: read {count.read}, written {count.written}, dead letters {count.dead}, "
          f"dropped {sum(count.dropped.values())}")
    return 0
