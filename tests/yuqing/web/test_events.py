"""Live updates: a real server streams an event when an alert arrives or changes, whichever process
wrote it; without a session the stream is refused."""

from __future__ import annotations

import json
import threading
import time

import httpx

from alerting.testing import scored
from yuqing.web import ConsoleOptions, create_app
from yuqing.web.testing import ConsoleServer

PASSWORD = "correct horse 9"


def events(response, found: list, stop: threading.Event):
    name = None
    try:
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                found.append((name, json.loads(line[6:])))
    except httpx.HTTPError:  # the test closed the stream
        return


def test_the_event_stream_says_when_the_queue_changes(service):
    app = create_app(service, ConsoleOptions(poll_interval=0.1))
    with ConsoleServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/api/events").status_code == 401
        assert client.post("/api/login", json={"name": "xf", "password": PASSWORD}).status_code == 200
        found, stop = [], threading.Event()
        with client.stream("GET", "/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = threading.Thread(target=events, args=(response, found, stop), daemon=True)
            reader.start()
            deadline = time.monotonic() + 5
            while not found and time.monotonic() < deadline:
                time.sleep(0.05)
            assert found[0][0] == "hello" and found[0][1]["now"] == service.clock.now().isoformat()
            service.ingest(scored("新的实名举报", at=service.clock.now()))  # another office's: still an event
            deadline = time.monotonic() + 5
            while len(found) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
        assert [name for name, _ in found[:2]] == ["hello", "queue"]
        assert found[1][1]["version"] == found[0][1]["version"] + 1


def test_a_change_right_after_the_first_page_connects_is_still_announced(service):
    # The first page starts the poller. Its first reading is the baseline: were it taken after
    # the hello, a change in between would be part of the baseline and never announced.
    import asyncio

    from yuqing.web.events import ChangeFeed, stream

    class Page:
        async def is_disconnected(self):
            return False

    async def scenario():
        feed = ChangeFeed(service.store, service.clock, interval=0.2)
        body = stream(feed, Page())
        hello = await body.__anext__()
        service.ingest(scored("刚连上就来的新预警", at=service.clock.now()))
        following = await asyncio.wait_for(body.__anext__(), 5)
        await body.aclose()
        await feed.stop()
        return hello, following

    hello, following = asyncio.run(scenario())
    assert "event: hello" in hello
    assert following.startswith("event: queue")
