"""What the commands share: the settings with the command line's overrides, and a clean stop."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from pipeline.config import Settings, load_settings

__all__ = ["settings_from", "stop_on_signals", "crawl_options"]

log = logging.getLogger(__name__)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line's overrides applied (the highest precedence)."""
    overrides = {}
    for option, key in (("data_dir", ("paths", "data_dir")), ("bus_url", ("bus", "url")),
                        ("index_url", ("index", "url")), ("workers", ("crawl", "workers")),
                        ("host_delay", ("crawl", "host_delay_s"))):
        value = getattr(args, option, None)
        if value is not None and value != "":  # --host-delay 0 is a value
            overrides[key] = value
    return load_settings(args.config, overrides=overrides)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C: the work in hand is finished, then the command stops."""
    stop = threading.Event()

    def handler(signum, _frame):
        log.warning("signal %s: finishing the current batch, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def crawl_options(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--host-delay``, the same on ``crawl``, ``run`` and ``sources``; unset,
    ``crawl`` in the settings decides."""
    parser.add_argument("--workers", type=int, metavar="N",
                        help="sources polled at once (default: crawl.workers, 32)")
    parser.add_argument("--host-delay", type=float, metavar="SECONDS",
                        help="minimum gap between two requests to one host, whatever the "
                        "source (default: crawl.host_delay_s, 1.0)")
