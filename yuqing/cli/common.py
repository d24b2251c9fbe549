"""What the commands share: the settings with the command line's overrides, and a clean stop."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from pipeline.config import Settings, load_settings

__all__ = ["settings_from", "stop_on_signals"]

log = logging.getLogger(__name__)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line's overrides applied (the highest precedence)."""
    overrides = {}
    for option, key in (("data_dir", ("paths", "data_dir")), ("bus_url", ("bus", "url")),
                        ("index_url", ("index", "url"))):
        value = getattr(args, option, None)
        if value:
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
