"""The security suite (issue 16): every probe of an attacker or a careless operator, one module per
boundary, plus property-based fuzzing (test_fuzz.py). docs/security.md says what each boundary
promises and which module tests it.

LOOPBACK ONLY. A module whose tests could send traffic to another host if a guard failed (SSRF,
redirects, DNS, rebinding) is marked ``pytestmark = pytest.mark.loopback_only``. Its tests never
run in this process: the first of them starts a child pytest for the whole module inside new
network and mount namespaces (``unshare --net --mount``, as root, which CI is), where the only
interface is loopback, and its results are reported here test by test. The child checks that
before any test runs. So a regression can reach no other machine: there is no route to one.
Host names are answered by resolvers the tests control (a resolver function handed to the
fetcher, or :class:`FakeDNS`, a DNS server of ours on 127.0.0.1:53 inside the namespace with
/etc/resolv.conf bind-mounted there alone), never by a real lookup. Without ``unshare`` these
modules fail under ``CI=true`` and are skipped elsewhere. Everything else here targets servers
of ours on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from pipeline.testing import IN_CI

#: set in the child that runs inside the namespaces
INSIDE = "YUQING_LOOPBACK_ONLY"
_REPORTS = "YUQING_LOOPBACK_REPORTS"
_HOST_MNT = "YUQING_HOST_MOUNT_NS"

# Run in the child before pytest: bring loopback up (a new namespace has it down), then refuse to
# go on unless loopback is the only interface and the mount namespace is not the host's.
_BOOTSTRAP = r"""
import fcntl, os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
names = [name for _, name in socket.if_nameindex()]
if names != ["lo"]:
    sys.exit(f"loopback_only: interfaces {names}, expected only lo; not running")
if os.readlink("/proc/self/ns/mnt") == os.environ["YUQING_HOST_MOUNT_NS"]:
    sys.exit("loopback_only: still in the host's mount namespace; not running")
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


_CONFIG: list = []  # the child's pytest config, for serialising its reports


def pytest_configure(config):
    config.addinivalue_line("markers", "loopback_only: runs only inside a network namespace with "
                            "nothing but loopback (tests/security/conftest.py)")
    _CONFIG[:] = [config]


def _unshare_problem() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed (util-linux)"
    done = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"unshare --net --mount does not work here (root is needed): {done.stderr.strip()}"
    return None


class _Namespaced:
    """Runs the loopback_only tests of a module in a child inside the namespaces, once per module,
    and keeps the child's reports by test id."""

    def __init__(self, config):
        self.config = config
        self.reports: dict[str, list] = {}
        self.output: dict[str, str] = {}
        self.problem: str | None = None
        self.checked = False

    def run_module(self, module: str, nodeids: list[str]) -> None:
        if not self.checked:
            self.problem, self.checked = _unshare_problem(), True
        if self.problem:
            return
        with tempfile.TemporaryDirectory(prefix="yuqing-netns-") as tmp:
            reports = Path(tmp) / "reports.jsonl"
            env = {**os.environ, INSIDE: "1", _REPORTS: str(reports),
                   _HOST_MNT: os.readlink("/proc/self/ns/mnt")}
            done = subprocess.run(
                ["unshare", "--net", "--mount", "--propagation", "private", sys.executable, "-c",
                 _BOOTSTRAP, "-p", "no:cacheprovider", "-q", "--rootdir",
                 str(self.config.rootpath), *nodeids],
                cwd=self.config.rootpath, env=env, capture_output=True, text=True, timeout=1800)
            self.output[module] = (f"child exit {done.returncode}\n{done.stdout[-6000:]}\n"
                                   f"{done.stderr[-3000:]}")
            if reports.exists():
                for line in reports.read_text(encoding="utf-8").splitlines():
                    report = self.config.hook.pytest_report_from_serializable(
                        config=self.config, data=json.loads(line))
                    if isinstance(report.longrepr, list):  # a skip's (path, line, why); JSON made it a list
                        report.longrepr = tuple(report.longrepr)
                    self.reports.setdefault(report.nodeid, []).append(report)


# made at the first such test: a conftest below the rootdir is loaded after the session started
_KEY = pytest.StashKey[_Namespaced]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if os.environ.get(INSIDE) or item.get_closest_marker("loopback_only") is None:
        return None
    runner = item.config.stash.setdefault(_KEY, _Namespaced(item.config))
    module = item.nodeid.split("::", 1)[0]
    if module not in runner.output and not runner.problem:
        same = [i.nodeid for i in item.session.items
                if i.nodeid.split("::", 1)[0] == module and i.get_closest_marker("loopback_only")]
        runner.run_module(module, same)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runner.reports.get(item.nodeid)
    if not reports:
        reports = [_stand_in(item, runner.problem, runner.output.get(module, ""))]
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _stand_in(item, problem: str | None, output: str):
    """The report of a test the child did not run: failed (CI, or a child that broke), or
    skipped (no unshare on a developer's machine)."""
    if problem and not IN_CI:
        outcome, longrepr = "skipped", (str(item.path), 0, f"Skipped: loopback only: {problem}")
    else:
        outcome = "failed"
        longrepr = (f"loopback_only: {problem} (CI=true: this must not be skipped)" if problem
                    else f"the child in the network namespace gave no result:\n{output}")
    return pytest.TestReport(item.nodeid, item.location, {}, outcome, longrepr, "call")


def pytest_runtest_logreport(report):
    path = os.environ.get(_REPORTS)
    if os.environ.get(INSIDE) and path:
        config = _CONFIG[0]
        data = config.hook.pytest_report_to_serializable(config=config, report=report)
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(data) + "\n")


# ---- a DNS server of ours, for the namespace --------------------------------------------------

class FakeDNS:
    """A DNS server on 127.0.0.1:53 answering A queries from a script, inside the namespace only.

    ``answers[name]`` is a list of IPv4 addresses given one per query, the last repeated (so
    ``["1.2.4.8", "127.0.0.1"]`` says "public" once, then "loopback": DNS rebinding); AAAA
    queries get no address; other names get NXDOMAIN. ``queries`` lists the names asked. While it
    runs, /etc/resolv.conf is bind-mounted to point at it, which refuses to happen outside the
    namespace.
    """

    def __init__(self, answers: dict[str, list[str]], tmp: Path):
        if not os.environ.get(INSIDE) or \
                os.readlink("/proc/self/ns/mnt") == os.environ.get(_HOST_MNT):
            raise RuntimeError("FakeDNS bind-mounts /etc/resolv.conf: only inside the namespace")
        self.answers = {name.lower().rstrip("."): list(ips) for name, ips in answers.items()}
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 53))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-dns")
        conf = tmp / "resolv.conf"
        conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        subprocess.run(["mount", "--bind", str(conf), "/etc/resolv.conf"], check=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
        subprocess.run(["umount", "/etc/resolv.conf"], check=False)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                packet, client = self._sock.recvfrom(512)
            except TimeoutError:
                continue
            answer = self._answer(packet)
            if answer:
                self._sock.sendto(answer, client)

    def _answer(self, packet: bytes) -> bytes | None:
        if len(packet) < 12:
            return None
        ident, _flags, qdcount = struct.unpack("!HHH", packet[:6])
        labels, at = [], 12
        while at < len(packet) and packet[at]:
            labels.append(packet[at + 1:at + 1 + packet[at]].decode("ascii", "replace"))
            at += 1 + packet[at]
        question = packet[12:at + 5]
        qtype = struct.unpack("!H", packet[at + 1:at + 3])[0] if at + 3 <= len(packet) else 0
        name = ".".join(labels).lower()
        if qtype == 1:
            self.queries.append(name)
        script = self.answers.get(name)
        if script is None:
            return struct.pack("!HHHHHH", ident, 0x8183, qdcount, 0, 0, 0) + question  # NXDOMAIN
        if qtype != 1:
            return struct.pack("!HHHHHH", ident, 0x8180, qdcount, 0, 0, 0) + question
        address = script.pop(0) if len(script) > 1 else script[0]
        record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + socket.inet_aton(address)
        return struct.pack("!HHHHHH", ident, 0x8180, qdcount, 1, 0, 0) + question + record


@pytest.fixture
def fake_dns(tmp_path):
    """``fake_dns({"rebind.test": ["1.2.4.8", "127.0.0.1"]})``: see :class:`FakeDNS`."""
    made = []

    def start(answers: dict[str, list[str]]) -> FakeDNS:
        server = FakeDNS(answers, tmp_path)
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()


# ---- a child process with bounded memory and time ---------------------------------------------

@pytest.fixture
def bounded(tmp_path, pytestconfig):
    """``bounded(code, memory_mb=..., seconds=...)``: run Python ``code`` in a child limited to
    ``memory_mb`` of address space and killed after ``seconds``; returns ``(exit code, stdout +
    stderr)``, exit code None when it was killed. A probe that would exhaust the machine on a
    regression exhausts only its own allowance."""

    def run(code: str, memory_mb: int = 1500, seconds: float = 60.0) -> tuple[int | None, str]:
        def limit() -> None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

        # the checkout under test first, whatever the virtualenv's editable install points at
        path = os.pathsep.join(filter(None, [str(pytestconfig.rootpath), os.environ.get("PYTHONPATH")]))
        try:
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  timeout=seconds, preexec_fn=limit, cwd=tmp_path,
                                  env={**os.environ, "PYTHONPATH": path})
        except subprocess.TimeoutExpired as exc:
            return None, f"killed after {seconds}s: {exc.stdout or ''}{exc.stderr or ''}"
        return done.returncode, done.stdout + done.stderr

    return run
