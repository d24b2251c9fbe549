"""The crawler at scale: N feeds, each on a host of its own, crawled by the real ``yuqing crawl``.

    .venv/bin/python benchmarks/crawl_scale.py --sources 3000 [--items 20] [--workers N]
        [--host-delay S] [--rate R] [--full-text] [--rounds 2]

A server process answers on 127.0.0.1 plus one loopback address per source (127.1.x.y: Linux
routes the whole of 127.0.0.0/8 to the loopback interface), so every source is its own host with
its own politeness gap, robots.txt and connections, as 3,000 county and township sites are.
Each host serves ``/robots.txt`` (allow all), ``/feed.xml`` (``--items`` summary-only entries, an
ETag, 304 to a matching conditional GET) and, with ``--full-text``, the entries' pages.

The crawler is ``python -m yuqing.cli.main crawl --once --no-scrapy`` in a process of its own
with a fresh data folder (embedded bus), sources at ``interval: 5m`` with no rate of their own
(so ``crawl.rate_limit_per_minute`` applies), and only the flags given here: without
``--workers``/``--host-delay`` the settings' defaults run. Round 1 finds everything new; round 2
is the no-change round (304s, robots.txt kept from round 1). For each round it prints the wall
time, the crawler's CPU seconds (user + system, from the kernel's accounting of the child) and
its peak RSS, the articles the bus holds afterwards, and the disk used by the snapshots, the
bus and the crawl state.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import multiprocessing
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.testing import free_port

ROOT = Path(__file__).resolve().parents[1]


def host(i: int) -> str:
    """The loopback address of source ``i``: 127.1.0.1, 127.1.0.2, ... (never 127.0.0.1)."""
    return str(ipaddress.IPv4Address("127.1.0.0") + 1 + i)


def feed(base: str, i: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>第{i}站第{k}条：某乡镇纪委通报违反中央八项规定精神问题</title>"
        f"<link>{base}/a/{k}.html</link><guid>{base}/a/{k}.html</guid>"
        f"<description>近日，第{i}站所在乡镇纪委通报第{k}起典型问题，涉及公款吃喝。</description>"
        f"<pubDate>Thu, 05 Mar 2026 10:{k % 60:02d}:00 +0800</pubDate></item>"
        for k in range(items))
    return (f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>第{i}站"
            f"</title><link>{base}/</link>{entries}</channel></rss>").encode("utf-8")


def page(i: int, k: int) -> bytes:
    paras = "".join(f"<p>第{i}站第{k}条第{n}段：县纪委监委督促有关单位逐项整改，并向社会公开。</p>"
                    for n in range(6))
    return (f"<html><head><meta charset='utf-8'><title>第{i}站第{k}条</title></head><body>"
            f"<h1>第{i}站第{k}条：某乡镇纪委通报违反中央八项规定精神问题</h1>"
            f"<div class='content'>{paras}</div></body></html>").encode("utf-8")


def serve(count: int, items: int, port: int, ready) -> None:
    """The server process: one asyncio loop, a listening socket per host, keep-alive HTTP/1.1."""
    feeds: dict[str, bytes] = {}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {ln.split(":", 1)[0].lower(): ln.split(":", 1)[1].strip()
                           for ln in lines[1:] if ":" in ln}
                index = int(ipaddress.IPv4Address(local)) - int(ipaddress.IPv4Address("127.1.0.1"))
                status, kind, body = 200, "text/plain", b""
                etag = f'"v1-{index}"'
                if path == "/robots.txt":
                    body = b"User-agent: *\nAllow: /\n"
                elif path == "/feed.xml":
                    if headers.get("if-none-match") == etag:
                        status = 304
                    else:
                        base = f"http://{local}:{port}"
                        if local not in feeds:
                            feeds[local] = feed(base, index, items)
                        body, kind = feeds[local], "application/rss+xml"
                elif path.startswith("/a/"):
                    body, kind = page(index, int(path[3:].split(".")[0])), "text/html; charset=utf-8"
                else:
                    status, body = 404, b"not found"
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
                extra = f"ETag: {etag}\r\n" if path == "/feed.xml" else ""
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
                             f"Content-Length: {len(body)}\r\n{extra}\r\n".encode("latin-1") + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, host=[host(i) for i in range(count)],
                                            port=port, backlog=256)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def sources_yaml(count: int, port: int, full_text: bool) -> str:
    out = ["sources:"]
    for i in range(count):
        out.append(f"  - id: s{i}\n    name: 第{i}站\n    type: rss\n"
                   f"    url: http://{host(i)}:{port}/feed.xml\n    internal: true\n"
                   f"    interval: 5m\n    max_items: 50\n"
                   + ("    fetch_full_text: true\n    extraction:\n      title: h1\n"
                      "      body: div.content\n" if full_text else ""))
    return "\n".join(out) + "\n"


def articles_on_bus(data: Path) -> int:
    db = sqlite3.connect(data / "bus.sqlite3")
    try:
        return db.execute("SELECT count(*) FROM log").fetchone()[0]
    except sqlite3.Error:
        return -1
    finally:
        db.close()


def crawl_round(args, data: Path, sources: Path) -> dict:
    command = [sys.executable, "-m", "yuqing.cli.main", "--data-dir", str(data), "crawl", "--once",
               "--no-scrapy", "--sources", str(sources)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.host_delay is not None:
        command += ["--host-delay", str(args.host_delay)]
    env = dict(os.environ)
    if args.rate is not None:
        (data.parent / "yuqing.yaml").write_text(f"crawl:\n  rate_limit_per_minute: {args.rate}\n",
                                                 encoding="utf-8")
        env["YUQING_CONFIG"] = str(data.parent / "yuqing.yaml")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    disk = {name: sum(p.stat().st_blocks * 512 for p in (data / name).rglob("*") if p.is_file())
            if (data / name).is_dir() else
            sum(p.stat().st_blocks * 512 for p in data.glob(name + "*"))
            for name in ("snapshots", "bus.sqlite3", "crawl_state.sqlite3")}
    return {"wall_s": wall, "exit": done.returncode, "summary": summary, "disk": disk,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            # ru_maxrss of children is the largest child so far: the crawler, not the server
            "peak_rss_mb": after.ru_maxrss / 1024, "on_bus": articles_on_bus(data)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=3000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--host-delay", type=float)
    parser.add_argument("--rate", type=float, help="crawl.rate_limit_per_minute (default 30)")
    parser.add_argument("--full-text", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(args.sources, args.items, port, ready),
                                     daemon=True)
    server.start()
    if not ready.wait(120):
        print("the server did not start", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(sources_yaml(args.sources, port, args.full_text), encoding="utf-8")
            data = Path(tmp) / "data"
            print(f"{args.sources} sources x {args.items} items "
                  f"({'full text' if args.full_text else 'feed only'}), workers "
                  f"{args.workers or 'default'}, host delay {args.host_delay if args.host_delay is not None else 'default'}, "
                  f"rate {args.rate or 'default'}, on {os.cpu_count()} CPUs", flush=True)
            for n in range(1, args.rounds + 1):
                r = crawl_round(args, data, sources)
                rate = args.sources / r["wall_s"] * 60
                print(f"round {n}: {r['wall_s']:.1f} s ({rate:.0f} sources/min), crawler CPU "
                      f"{r['cpu_s']:.1f} s ({100 * r['cpu_s'] / r['wall_s']:.0f} % of a core), peak "
                      f"RSS {r['peak_rss_mb']:.0f} MB, exit {r['exit']}, on the bus "
                      f"{r['on_bus']}\n  {r['summary']}\n  on disk: " + ", ".join(
                          f"{name} {size / 1e6:.1f} MB" for name, size in r["disk"].items()),
                      flush=True)
    finally:
        server.terminate()
        server.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
