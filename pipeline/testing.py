"""Helpers for tests of anything that reads the bus or needs a real service (shipped in the package
so every suite can use them; none of this is a stand-in for a backend)."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from pipeline.bus import Consumer, Message
from pipeline.bus.kafka import bootstrap_servers

#: Where the real services listen in tests (deploy/run-tests exports these).
KAFKA_URL = os.environ.get("YUQING_KAFKA_URL", "kafka://127.0.0.1:9092")
ES_URL = os.environ.get("YUQING_ES_URL", "http://127.0.0.1:9200")
PG_URL = os.environ.get("YUQING_PG_URL", "postgresql+psycopg://yuqing@127.0.0.1:55432/yuqing")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, url: str) -> None:
    """Skip the calling test when the service at ``url`` does not answer, and FAIL it under
    ``CI=true``: a skipped real-service test in CI would hide what the suite exists to prove."""
    # deferred: pytest is a test dependency ('.[dev]'), and only a failing check needs it
    import pytest

    # A cluster URL lists several nodes (h1:9092,h2:9092): one that answers is enough here.
    for node in urlsplit(url).netloc.rpartition("@")[2].split(","):
        host, _, port = node.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
                return
        except (OSError, ValueError):
            pass
    message = f"{name} at {url} is not reachable; start it with deploy/services/start"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: real-service tests must not be skipped)")
    pytest.skip(message)


@contextmanager
def postgres_database(server_url: str | None = None) -> Iterator[str]:
    """A fresh database on the real PostgreSQL server (``YUQING_PG_URL``), dropped afterwards;
    yields its SQLAlchemy URL. Skips, or fails under ``CI=true``, when the server is down."""
    server_url = server_url or PG_URL
    require_service("PostgreSQL", server_url)
    name = unique("test_").replace("-", "_")
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            _drop_database(admin, name)
        finally:
            admin.dispose()


def _drop_database(admin: Engine, name: str, attempts: int = 5) -> None:
    """Drop a test database, trying again a few times: an autovacuum worker that
    happens to be in it can make the forced drop fail for a moment."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def drop_test_topics(kafka_url: str, prefix: str) -> None:
    """Delete the topics a test made under ``prefix`` (best effort). A broker that keeps every
    test's topics grows by thousands of partitions a run and runs out of heap in the end."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers(kafka_url), client_id="yuqing-tests",
                             request_timeout_ms=15_000)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine, timeout_ms=15_000)
    except KafkaError:
        pass  # left behind: the next run does not depend on it
    finally:
        admin.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server a test or benchmark
    starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def groups_stable(kafka_url: str, members: dict[str, int]) -> bool:
    """Whether every consumer group named in ``members`` (full names) is Stable with that many
    members; False while a coordinator moves (after a broker stopped), so the caller asks again."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers(kafka_url), request_timeout_ms=10_000)
    try:
        found = admin.describe_groups(list(members))
    except Exception:  # kafka-python raises bare errors while the coordinator moves
        return False
    finally:
        admin.close()
    return all(found.get(g, {}).get("group_state") == "Stable"
               and len(found[g].get("members", [])) == n for g, n in members.items())


def unique(prefix: str) -> str:
    """A name no other test run uses, so tests on a shared broker or node never see each other."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"

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


class TcpProxy:
    """A loopback TCP forwarder whose link can be cut and restored, to test outages of a real
    service (Elasticsearch, Kafka) without stopping it: ``with TcpProxy(host, port) as p:``
    then point the client at ``p.url(scheme)``; ``p.cut()`` drops every connection and refuses
    new ones until ``p.restore()``."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._socket = socket
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._closing = False
        self._conns: set = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            for conn in list(self._conns):
                self._close(conn)
            self._conns.clear()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closing = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                self._close(client)
                continue
            try:
                upstream = self._socket.create_connection(self.target, timeout=5)
            except OSError:
                self._close(client)
                continue
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src)
            self._close(dst)

    def _close(self, conn) -> None:
        try:
            conn.shutdown(self._socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()


def worker_counters(port: int) -> dict[str, float]:
    """A running worker's ``yuqing_produced_total`` and ``yuqing_consumer_lag`` by step, read off
    its Prometheus page on 127.0.0.1 (``produced:classify``, ``lag:index``); empty while the
    worker is down. Used by the sustained benchmark and the failover test to follow a stream."""
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in body.splitlines():
        for metric, name in (("yuqing_produced_total", "produced"), ("yuqing_consumer_lag", "lag")):
            if line.startswith(metric + "{"):
                stage = line.split('stage="', 1)[1].split('"', 1)[0]
                key = f"{name}:{stage}"
                out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return out
