"""Helpers for tests and screenshots of the console: a real server in a thread, a real Chromium.

:class:`ConsoleServer` runs the app under uvicorn on 127.0.0.1 and a free port, in a thread of the
calling process (so a test can ingest alerts into the same store while a browser watches).
:func:`launch_chromium` starts Debian's Chromium (``/usr/bin/chromium``) through Playwright, with
the flags that keep it off the network and working as root in a container; Playwright's own
browser downloads are never used. :func:`require_chromium` skips a test when Chromium or
Playwright is missing, and FAILS it under ``CI=true``, like ``pipeline.testing.require_service``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import uvicorn

from pipeline.testing import IN_CI

__all__ = ["ConsoleServer", "launch_chromium", "require_chromium", "CHROMIUM", "CHROMIUM_ARGS", "log_in"]

CHROMIUM = os.environ.get("YUQING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]


class ConsoleServer:
    """``with ConsoleServer(app) as server:`` then open ``server.url``; stopped on exit."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="console")
        self.url = ""

    def start(self) -> "ConsoleServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the console did not start within 20 s")
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> "ConsoleServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def require_chromium() -> None:
    """Skip the calling test without Chromium or Playwright; fail it under ``CI=true``."""
    # deferred: pytest and Playwright are test dependencies ('.[dev]'), absent where yuqing runs
    import pytest

    problem = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        problem = f"Chromium is not at {CHROMIUM}; install it with deploy/setup-system (Debian package chromium)"
    else:
        try:
            # deferred: a test dependency, and whether it is installed is the question asked here
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem} (CI=true: browser tests must not be skipped)")
    pytest.skip(problem)


def launch_chromium(playwright, **options):
    """Debian's Chromium, headless, offline-minded; ``options`` go to ``chromium.launch``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **options)


def log_in(page, base_url: str, name: str, password: str) -> None:
    """Fill the login form and wait for the page it leads to."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
