"""Classifier throughput, model load time and memory, on 1,500-character articles.

    taskset -c 0 .venv/bin/python benchmarks/classify_throughput.py [--articles 3000] [--rounds 5]

Articles are built from the corpus (texts joined until each has 1,500 characters), so the words
are realistic. Runs in one process on one core (the scorer is single-threaded); prints figures for
docs/benchmarks.md. Each figure is measured ``--rounds`` times: the best round is what the code
can do, the median what a shared machine gave; the load average says how shared it was. "CPU"
figures divide by the process's CPU time instead of the wall clock, which leaves out the time the
core spent on other processes. Nothing here asserts a speed: it measures.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time


def articles(n: int, length: int = 1500) -> list[str]:
    from classifiers.corpus import load_corpus

    texts = [e.full_text for e in load_corpus()]
    out, i = [], 0
    while len(out) < n:
        parts, size = [], 0
        while size < length:
            t = texts[i % len(texts)]
            parts.append(t)
            size += len(t)
            i += 1
        out.append("\n".join(parts)[:length])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--backend", choices=["jieba", "rjieba"], default="rjieba")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from classifiers import registry
    from classifiers.rules import load_rules
    from classifiers.scorer import ModelScorer
    from classifiers.tokenize import tokens

    docs = articles(args.articles)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    start = time.perf_counter()
    model = registry.load()
    load_s = time.perf_counter() - start
    model.backend = args.backend
    scorer = ModelScorer(model, load_rules())
    scorer.judge_many(docs[:50])  # warm the segmenter's dictionary
    load_before = os.getloadavg()[0]

    def rounds(work) -> tuple[list[float], list[float]]:
        """Articles a second over the wall clock and over CPU time, one figure per round."""
        wall, cpu = [], []
        for _ in range(args.rounds):
            w, c = time.perf_counter(), time.process_time()
            work()
            wall.append(len(docs) / (time.perf_counter() - w))
            cpu.append(len(docs) / (time.process_time() - c))
        return wall, cpu

    def classify() -> None:
        for i in range(0, len(docs), args.batch):
            scorer.judge_many(docs[i:i + args.batch])

    tok_wall, _ = rounds(lambda: [tokens(d, args.backend) for d in docs])
    wall, cpu = rounds(classify)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def spread(figures: list[float]) -> str:
        return f"best {max(figures):,.0f}, median {statistics.median(figures):,.0f}"

    chars = sum(len(d) for d in docs) / len(docs)
    print(f"model {model.version}, backend {args.backend}, {len(docs)} articles of 1,500 chars, "
          f"batch {args.batch}, one core, {args.rounds} rounds")
    print(f"load average:           {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"model load:             {load_s:.2f} s")
    print(f"tokenising only:        {spread(tok_wall)} articles/s "
          f"(best {max(tok_wall) * chars / 1e6:.2f} M chars/s)")
    print(f"classify (model+rules): {spread(wall)} articles/s; "
          f"per CPU second: {spread(cpu)}")
    print(f"peak RSS:               {rss_after / 1024:.0f} MB "
          f"(before loading the model: {rss_before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
