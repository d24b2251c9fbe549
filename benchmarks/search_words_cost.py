"""What the index step's search words cost per article, and how much of it is the segmenter.

    .venv/bin/python benchmarks/search_words_cost.py [--articles 3000] [--rounds 5]

The articles are those of benchmarks/classify_throughput.py (corpus texts joined to 1,500
characters), normalised once before timing, as ``pipeline.index.document`` has them. Each round
times, over all the articles and on one core, ``cut_for_search`` alone and then
``pipeline.text.search_words(..., normalized=True)``; the difference is what search_words adds to
the segmenter (keeping the words that hold a search unit). Figures are CPU milliseconds an
article (process time, which leaves out time the core spent on other processes): the best round
and the median, with the load average, since the machine may be shared. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--backend", choices=["jieba", "rjieba"], default="rjieba")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from classify_throughput import articles
    from pipeline import text

    norms = [text.normalize(d) for d in articles(args.articles)]
    cut = text.segmenter(args.backend).cut_for_search
    text.search_words(norms[0], args.backend, normalized=True)  # load the dictionary
    load_before = os.getloadavg()[0]

    def per_article(work) -> float:
        start = time.process_time()
        work()
        return (time.process_time() - start) / len(norms) * 1e3

    cut_ms, words_ms = [], []
    for _ in range(args.rounds):
        cut_ms.append(per_article(lambda: [cut(x) for x in norms]))
        words_ms.append(per_article(
            lambda: [text.search_words(x, args.backend, normalized=True) for x in norms]))
    added = [w - c for w, c in zip(words_ms, cut_ms)]

    def spread(figures: list[float]) -> str:
        return f"best {min(figures):.3f}, median {statistics.median(figures):.3f} ms/article"

    print(f"backend {args.backend}, {len(norms)} articles of 1,500 chars, one core, "
          f"{args.rounds} rounds; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"cut_for_search:          {spread(cut_ms)}")
    print(f"search_words:            {spread(words_ms)}")
    print(f"search_words minus cut:  {spread(added)} (round by round)")


if __name__ == "__main__":
    main()
