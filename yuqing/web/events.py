"""Live updates: one poller per console process watches the alert database, every open page hears.

:class:`ChangeFeed` reads a cheap fingerprint of the queue every ``interval`` seconds (number of
alerts, latest ``updated_at``, number of open deadlines and of tasks done) in a worker thread; when it
differs, every subscriber gets the new version. The stream (:func:`stream`) is Server-Sent Events:
an ``event: queue`` with the version and the server's time (pages keep their countdowns in step
with it), and a comment every 15 s so proxies keep the connection open. The event says only that
something changed; each page then fetches what its user may see, through the service. Polling the
database (rather than a notification from the writer) also sees changes made by the workers and
by ``yuqing alerts`` in other processes, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import AsyncIterator

from sqlalchemy import func, select

from alerting.store.models import Alert, Deadline, Task

__all__ = ["ChangeFeed", "stream"]

log = logging.getLogger(__name__)
KEEPALIVE_S = 15.0


class ChangeFeed:
    """See the module docstring. ``version`` grows by one at each change seen."""

    def __init__(self, store, clock, interval: float = 1.5):
        self.store = store
        self.clock = clock
        self.interval = interval
        self.version = 0
        self._fingerprint = None
        self._changed: asyncio.Condition | None = None
        self._task: asyncio.Task | None = None
        self._subscribers = 0

    def fingerprint(self) -> tuple:
        with self.store.session() as session:
            alerts = session.execute(select(func.count(), func.max(Alert.updated_at))).one()
            deadlines = session.execute(select(func.count()).select_from(Deadline)
                                        .where(Deadline.status == "open")).scalar_one()
            tasks = session.execute(select(func.count()).select_from(Task).where(Task.state != "open")).scalar_one()
        return (alerts[0], str(alerts[1]), deadlines, tasks)

    async def _poll(self) -> None:
        while True:
            try:
                fingerprint = await asyncio.to_thread(self.fingerprint)
            except Exception as exc:  # the database is away: keep the pages, try again
                log.warning("console_poll_failed: %s", exc)
            else:
                if fingerprint != self._fingerprint:
                    if self._fingerprint is not None:
                        self.version += 1
                    self._fingerprint = fingerprint
                    async with self._changed:
                        self._changed.notify_all()
            await asyncio.sleep(self.interval)

    def _ensure_running(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Condition()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def ready(self, timeout: float = 5.0) -> None:
        """Start the poller if it is not running and wait (up to ``timeout``) for its first
        reading: a change made between a page's hello and that first reading would otherwise
        become the baseline and never be announced."""
        self._ensure_running()
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._fingerprint is not None),
                                       timeout)
            except asyncio.TimeoutError:  # the database is away: the poller keeps trying
                pass

    async def wait(self, seen: int, timeout: float) -> int:
        """The version once it is past ``seen``, or the same one after ``timeout`` seconds."""
        self._ensure_running()
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version > seen), timeout)
            except asyncio.TimeoutError:
                pass
        return self.version

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream(feed: ChangeFeed, request) -> AsyncIterator[str]:
    """The SSE body for one page; ends when the browser goes away or the server stops."""
    await feed.ready()
    seen = feed.version
    # retry: how soon the browser reconnects after the server restarted
    yield "retry: 3000\n" + _event("hello", {"version": seen, "now": feed.clock.now().isoformat()})
    while True:
        if await request.is_disconnected():
            return
        version = await feed.wait(seen, KEEPALIVE_S)
        if version != seen:
            seen = version
            yield _event("queue", {"version": version, "now": feed.clock.now().isoformat()})
        else:
            yield ": keepalive\n\n"
