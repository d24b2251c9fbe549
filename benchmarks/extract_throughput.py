"""Decode-and-extract throughput, pages per second on one core.

    .venv/bin/python benchmarks/extract_throughput.py [--dir DIR] [--rounds 5] [--min-seconds 2]

Reads every ``*.html`` in DIR (default: tests/crawlers/fixtures/pages, the pages written for the
tests) as bytes, pins the process to one CPU, and times ``decode_html`` + ``extract_article`` over
all of them, repeated until a round lasts at least ``--min-seconds``. One warm-up round is not
counted (imports, OpenCC and trafilatura start-up). Prints the median and the spread of the
rounds, and the page sizes, because throughput depends mostly on page size.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawlers.extract import extract_article  # noqa: E402
from crawlers.normalize.encoding import decode_html  # noqa: E402


def load(directory: Path) -> list[tuple[str, bytes]]:
    pages = sorted(directory.glob("*.html"))
    if not pages:
        raise SystemExit(f"{directory}: no *.html pages to measure")
    return [(p.name, p.read_bytes()) for p in pages]


def one_pass(pages: list[tuple[str, bytes]]) -> None:
    for name, body in pages:
        text, _ = decode_html(body)
        extract_article(text, f"http://bench.test/{name}")


def measure(pages: list[tuple[str, bytes]], rounds: int, min_seconds: float) -> list[float]:
    """Pages per second of each round."""
    one_pass(pages)  # warm-up
    rates = []
    for _ in range(rounds):
        done, start = 0, time.perf_counter()
        while True:
            one_pass(pages)
            done += len(pages)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(done / elapsed)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "tests/crawlers/fixtures/pages")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # per-page warnings would be timed too
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    pages = load(args.dir)
    sizes = [len(body) for _, body in pages]
    rates = measure(pages, args.rounds, args.min_seconds)
    print(f"pages: {len(pages)} from {args.dir} (median size {statistics.median(sizes) / 1024:.1f} KiB, "
          f"total {sum(sizes) / 1024:.0f} KiB)")
    print(f"rounds: {', '.join(f'{r:.1f}' for r in rates)} pages/s")
    print(f"decode+extract, one core: {statistics.median(rates):.1f} pages/s (median of {len(rates)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
