"""Classifier throughput, model load time and memory, on 1,500-character articles.

    .venv/bin/python benchmarks/classify_throughput.py [--articles 3000] [--backend rjieba]

Articles are built from the corpus (texts joined until each has 1,500 characters), so the words
are realistic. Runs in one process on one core (the scorer is single-threaded); prints figures for
docs/benchmarks.md. Nothing here asserts a speed: it measures.
"""

from __future__ import annotations

import argparse
import os
import resource
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

    start = time.perf_counter()
    for d in docs:
        tokens(d, args.backend)
    tok_s = time.perf_counter() - start

    start = time.perf_counter()
    for i in range(0, len(docs), args.batch):
        scorer.judge_many(docs[i:i + args.batch])
    total_s = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    chars = sum(len(d) for d in docs)
    print(f"model {model.version}, backend {args.backend}, {len(docs)} articles of 1,500 chars, "
          f"batch {args.batch}, one core")
    print(f"model load:            {load_s:.2f} s")
    print(f"tokenising only:       {len(docs) / tok_s:,.0f} articles/s ({chars / tok_s / 1e6:.2f} M chars/s)")
    print(f"classify (model+rules): {len(docs) / total_s:,.0f} articles/s")
    print(f"peak RSS:              {rss_after / 1024:.0f} MB (before loading the model: {rss_before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
