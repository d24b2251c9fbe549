"""Helpers for tests of anything that reads the bus (shipped in the package so every suite can use
them; none of this is a stand-in for a backend)."""

from __future__ import annotations

import time

from pipeline.bus import Consumer, Message

#: Kafka needs a moment to assign a new group its partitions: poll in a loop until then.
PATIENCE_S = 30.0


def drain(consumer: Consumer, expected: int, timeout_s: float = PATIENCE_S) -> list[Message]:
    """Poll until ``expected`` messages arrived or the time is up; returns what arrived."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expected and time.monotonic() < deadline:
        got.extend(consumer.poll(max_records=500, timeout_s=1.0))
    return got


def settle(consumer: Consumer, quiet_s: float = 2.0) -> list[Message]:
    """Whatever else arrives within ``quiet_s``: used to show that nothing more comes."""
    return consumer.poll(max_records=500, timeout_s=quiet_s)
