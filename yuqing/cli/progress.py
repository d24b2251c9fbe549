"""How a long command shows that it is working: a progress bar on a terminal, a status line a
minute otherwise (a cron job's or systemd's log, where a bar would be a thousand lines of noise).

    with Progress(len(sources), "crawl", "sources") as progress:
        ... progress.advance(1, failed=outcome.failed)   # from any thread
        ... progress.count("articles")

The bar is tqdm's; counters beside the total (articles, failed) appear after it. Whether the
output is a terminal is asked of the stream itself, so ``yuqing crawl --once | tee log`` gets the
status lines.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Callable, TextIO

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    """Units done of ``total`` (None: unknown) and named counters, shown on ``stream``.

    ``bar`` None asks the stream whether it is a terminal; ``counters`` are shown from the
    start, in that order. Without a bar a line is written when
    ``every_s`` has passed since the last one, and a last one at :meth:`close`.
    """

    def __init__(self, total: int | None, what: str, unit: str, *, stream: TextIO | None = None,
                 bar: bool | None = None, every_s: float = 60.0, counters: tuple[str, ...] = (),
                 clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.what = what
        self.unit = unit
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.done = 0
        self.counters: dict[str, int] = dict.fromkeys(counters, 0)  # shown in this order
        self._clock = clock
        self._started = self._last_line = clock()
        self._lock = threading.Lock()
        self._closed = False
        isatty = getattr(self.stream, "isatty", lambda: False)
        use_bar = isatty() if bar is None else bar
        # the size once, with a fallback: a terminal that reports 0x0 (a fresh pty, a serial
        # console) makes tqdm draw an empty bar, or none at all
        size = shutil.get_terminal_size((100, 24))
        self._bar = tqdm(total=total, desc=what, unit=f" {unit}", file=self.stream,
                         ncols=size.columns or 100, nrows=max(size.lines, 2),
                         mininterval=0.25, smoothing=0.1) if use_bar else None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def advance(self, n: int = 1, **counters: int | bool) -> None:
        """``n`` more units done; each keyword adds to the counter of that name."""
        with self._lock:
            self.done += n
            for name, value in counters.items():
                self.counters[name] = self.counters.get(name, 0) + int(value)
            self._show(n)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to a counter without a unit done (e.g. an article published)."""
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n
            self._show(0)

    def _show(self, n: int) -> None:
        if self._bar is not None:
            if self.counters:
                self._bar.set_postfix_str(self._counters(), refresh=False)
            self._bar.update(n)
            return
        if self._clock() - self._last_line >= self.every_s:
            self._line()

    def _counters(self) -> str:
        return ", ".join(f"{v} {k}" for k, v in self.counters.items())

    def _line(self) -> None:
        self._last_line = self._clock()
        of = f"/{self.total}" if self.total is not None else ""
        extra = f", {self._counters()}" if self.counters else ""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{stamp} {self.what}: {self.done}{of} {self.unit}{extra}, "
              f"{self._clock() - self._started:.0f}s", file=self.stream, flush=True)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._bar is not None:
                if self.counters:
                    self._bar.set_postfix_str(self._counters(), refresh=False)
                self._bar.close()
                self._bar = None
            elif self.done or self.counters:
                self._line()
