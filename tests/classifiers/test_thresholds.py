"""Thresholds chosen on out-of-fold signals by running the decision itself: the bar of the open
accusation cue follows what the cue does on the training texts."""

from __future__ import annotations

import numpy as np

from classifiers.levels import DEFAULT_RULE_THRESHOLDS, GENRES
from classifiers.signals import Cues
from classifiers.training import TrainParams, choose_thresholds

NEWS = {g: (0.9 if g == "news" else 0.1 / (len(GENRES) - 1)) for g in GENRES}


def cues(alleged: bool) -> Cues:
    return Cues(fiction=False, template=False, case=False, denied=False, spread=(),
                commission=False, subject="点名官员", complaint=True, alleged=alleged)


def texts(rows):
    """rows: (sensitivity, event, alleged, level); every text is relevant."""
    n = len(rows)
    p = {"relevant": np.full(n, 0.95), "sensitive": np.array([r[0] for r in rows]),
         "warn": np.array([r[1] for r in rows]), "major": np.full(n, 0.01)}
    y = {"relevant": np.ones(n, dtype=int), "sensitive": np.array([r[0] > 0.5 for r in rows]),
         "warn": np.array([r[3] >= 2 for r in rows], dtype=int),
         "major": np.zeros(n, dtype=int)}
    return p, [NEWS] * n, [cues(r[2]) for r in rows], y


# Plain cases the heads read right: alarming 较大 items and calm 一般 ones.
READ_RIGHT = [(0.9, 0.9, False, 2)] * 20 + [(0.1, 0.05, False, 1)] * 20


def test_where_the_heads_miss_accused_complaints_the_cue_decides_alone():
    # calm-sounding complaints that accuse a cadre, labelled 较大, which no head bar reaches
    p, g, c, y = texts(READ_RIGHT + [(0.15, 0.03, True, 2)] * 6)
    t = choose_thresholds(p, g, c, y, TrainParams())
    assert t["warn_cued"] <= 0.03


def test_where_the_cue_only_costs_it_is_switched_off():
    # the accusation read on 一般 texts only (say, retellings that are not complaints)
    p, g, c, y = texts(READ_RIGHT + [(0.15, 0.03, True, 1)] * 6 + [(0.2, 0.6, True, 1)] * 3)
    t = choose_thresholds(p, g, c, y, TrainParams())
    assert t["warn_cued"] == DEFAULT_RULE_THRESHOLDS["warn_cued"]
