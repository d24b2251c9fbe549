"""What finding an item's locality costs the intake (alerting.locality.locate), per text.

    .venv/bin/python benchmarks/locality_cost.py ../shared/realworld/passages

Reads ``text`` (and ``title`` when present) from every ``*.jsonl`` in the folder, locates each
once to warm the tagger, then times a pass over all of them and prints the mean and the share of
each locality found.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from alerting.config import Jurisdiction
from alerting.locality import locate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    texts = []
    for path in sorted(args.folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts.append(f"{record.get('title', '')}\n{record.get('text', '')}")
    if not texts:
        raise SystemExit(f"{args.folder}: no *.jsonl with text")
    jurisdiction = Jurisdiction()
    t0 = time.perf_counter()
    locate(texts[0], jurisdiction)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = Counter(locate(text, jurisdiction) for text in texts)
    each = (time.perf_counter() - t0) / len(texts)
    print(f"{len(texts)} texts, mean {sum(map(len, texts)) / len(texts):.0f} characters; "
          f"first call (tagger load) {warm:.2f} s; then {each * 1000:.1f} ms a text")
    print("  " + "  ".join(f"{k} {v}" for k, v in found.most_common()))


if __name__ == "__main__":
    main()
