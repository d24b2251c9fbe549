"""What cleaning a text and reading its cues cost per article, the parts of classify that read
words with regular expressions rather than the model.

    .venv/bin/python benchmarks/cues_cost.py [--articles 3000] [--rounds 7]

The articles are those of benchmarks/classify_throughput.py (corpus texts joined to 1,500
characters). Timed on one core, in CPU milliseconds an article (process time): ``clean`` of each
raw article; ``read_cues`` of the prepared articles in batches of 256, as the scorer calls it;
``commission_accused`` one text at a time (the reading ``read_cues`` includes, for every text
that names the commission). The best round and the median are printed with the load average,
since the machine may be shared. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from classify_throughput import articles
    from classifiers.clean import clean, prepare
    from classifiers.signals import read_cues
    from classifiers.subject import commission_accused

    docs = articles(args.articles)
    prepared = [prepare(d) for d in docs]
    batches = [prepared[i:i + 256] for i in range(0, len(prepared), 256)]
    read_cues(prepared[:10])  # build the word finders
    load_before = os.getloadavg()[0]

    def per_article(work) -> str:
        figures = []
        for _ in range(args.rounds):
            start = time.process_time()
            work()
            figures.append((time.process_time() - start) / len(docs) * 1e3)
        return f"best {min(figures):.3f}, median {statistics.median(figures):.3f} ms/article"

    print(f"{len(docs)} articles of 1,500 chars, one core, {args.rounds} rounds")
    print(f"clean:                   {per_article(lambda: [clean(d) for d in docs])}")
    print(f"read_cues (batches 256): {per_article(lambda: [read_cues(b) for b in batches])}")
    print(f"commission_accused:      {per_article(lambda: [commission_accused(t) for t in prepared])}")
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
