"""The labelled corpus is our own writing: every record loads, no text is a near-copy of another,
and none repeats a passage of the real development set it is measured on."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from classifiers.corpus import load_corpus
from pipeline.text import to_simplified

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "passages"

#: Wording every case notice or party rule repeats word for word (statutory formulas), and the
#: filler lines the damage script adds; texts may share these and nothing else that long.
FORMULAS = [re.compile(p) for p in (
    r"严重违反党的[^。；]{0,40}纪律[^。；]{0,60}",
    r"[^。；]{0,30}给予其开除(党籍|公职)处分[^。]{0,80}",
    r"涉嫌(严重)?违纪违法，目前正接受[^。]{0,30}纪律审查和监察调查",
    r"可能影响公正执行公务的礼品、礼金[^。；]{0,40}",
    r"经常开展批评和自我批评、约谈函询[^。；]{0,40}",
    r"以[^，。]{1,12}罪判处[^。；]{0,60}",
    r"对实名检举控告，纪检监察机关应当在收到之日起[^。]{0,60}",
    r"\n\n?更多精彩：[\s\S]{0,80}",
    r"[^\n]*>>[^\n]*",       # a breadcrumb line left from navigation
    r"(\n· [^\n]*)+",       # a list of related links
)]
RUN = 30      # a shared run this long between two of our texts is a copy
DEV_RUN = 24  # ... and this long with a development passage (only statutory law text reaches 20)


def runs(text: str, n: int) -> set[str]:
    text = to_simplified(text)
    for formula in FORMULAS:
        text = formula.sub("\x00", text)
    return {text[i:i + n] for i in range(len(text) - n + 1) if "\x00" not in text[i:i + n]}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_every_label_is_one_the_rubric_knows(corpus):
    # load_corpus refuses a bad line with file:line; here: the split of levels is sane
    levels = {e.level for e in corpus}
    assert levels == {0, 1, 2, 3}
    assert all((e.department == "") == (e.level == 0) for e in corpus)


def test_no_two_texts_share_a_long_run_outside_statutory_formulas(corpus):
    owners: dict[str, set[str]] = defaultdict(set)
    for e in corpus:
        for run in runs(e.text, RUN):
            owners[run].add(e.id)
    copies = sorted({tuple(sorted(ids)) for ids in owners.values() if len(ids) > 1})
    assert copies == [], f"texts sharing a run of {RUN} characters: {copies[:10]}"


@pytest.mark.skipif(not DEV.is_dir(), reason=f"{DEV} is not beside this checkout")
def test_no_text_repeats_a_development_passage(corpus):
    dev_runs: dict[str, str] = {}
    for line in (DEV / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            for run in runs(f"{item['title']}\n{item['text']}", DEV_RUN):
                dev_runs[run] = item["id"]
    near = sorted({(e.id, dev_runs[r]) for e in corpus
                   for r in runs(f"{e.title}\n{e.text}", DEV_RUN) if r in dev_runs})
    assert near == [], f"corpus texts repeating a development passage: {near[:10]}"
