"""The scorer's fast path judges exactly as the straightforward path does, on the whole corpus.

The straightforward path is written out here: feature strings looked up one at a time
(``Vectorizer.transform``), each head's own product, the explanation ranked one row at a time,
scheme words found by substring search and the schemes decided one by one. The fast path
(``ModelScorer.judge_many``) batches all of that; it must not change a single judgement.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from classifiers import registry
from classifiers.corpus import load_corpus
from classifiers.features import FastFeatures, Vectorizer
from classifiers.clean import prepare
from classifiers.levels import Signals, decide, route
from classifiers.model import BINARY_HEADS, MAX_CHARS, Prediction, TextModel
from classifiers.rules import Hit, WordFinder, load_rules
from classifiers.scorer import ModelScorer
from classifiers.signals import read_cues
from classifiers.tokenize import words_of_normalized
from pipeline.text import normalize

ODD = [
    "", " \n\t", "。，、", "纪", "纪委", "2024-03-08 5t 138xxxx8866 text-indent:2em 45.6%",
    "中紀委通報：某省副廳級官員涉嫌嚴重违纪违法，目前正接受紀律審查和監察調查。",
    "会昌" * 3000 + "被查",  # the schemes read past the model's 6,000 characters
]


@pytest.fixture(scope="module")
def model():
    return registry.load()


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def texts():
    return [e.full_text for e in load_corpus()] + ODD


def reference_predictions(model, normalized: list[str]) -> list[Prediction]:
    X = model.vectorizer.transform([words_of_normalized(t[:MAX_CHARS], model.backend)
                                    for t in normalized])
    out = []
    for i in range(X.shape[0]):
        row = X[i]
        p = {}
        for head in BINARY_HEADS:
            score = (row @ model.coef[head])[0] + model.intercept[head][0]
            a, b = model.platt[head]
            p[head] = float(1.0 / (1.0 + np.exp(-(a * score + b))))
        multi = {}
        for head, classes in model.multi_heads.items():
            z = (row @ model.coef[head].T)[0] + model.intercept[head]
            z = np.exp(z - z.max())
            z /= z.sum()
            multi[head] = {c: float(z[k]) for k, c in enumerate(classes)}
        [cues] = read_cues([normalized[i]])
        decision = decide(Signals(p["relevant"], p["sensitive"], p["warn"], p["major"],
                                  multi["genre"], cues), model.thresholds)
        office, routed = (route(multi["department"], cues, model.thresholds)
                          if decision.level else ("", ""))
        out.append(Prediction(
            relevant=p["relevant"], sensitive=p["sensitive"], warn=p["warn"], major=p["major"],
            department_probs=multi["department"], level=decision.level, department=office,
            top_terms=model._why(X, i), genre_probs=multi["genre"], subject=decision.subject,
            reasons=decision.reasons + ((routed,) if routed else ())))
    return out


def reference_hits(rules, body: str) -> list[Hit]:
    hits = []
    for scheme, conditions, exclusions in rules.schemes:
        if any(w and w in body for w in exclusions):
            continue
        found: list[str] = []
        for words in conditions:
            if not words:
                continue
            matched = [w for w in words if w and w in body]
            if not matched:
                break
            found += matched
        else:
            if found or not any(conditions):
                hits.append(Hit(scheme, tuple(found)))
    return hits


def assert_same_prediction(fast: Prediction, ref: Prediction) -> None:
    for head in BINARY_HEADS:
        assert abs(getattr(fast, head) - getattr(ref, head)) <= 1e-9
    assert fast.department_probs.keys() == ref.department_probs.keys()
    for d, p in ref.department_probs.items():
        assert abs(fast.department_probs[d] - p) <= 1e-9
    for g, p in ref.genre_probs.items():
        assert abs(fast.genre_probs[g] - p) <= 1e-9
    assert (fast.level, fast.department, fast.top_terms, fast.subject) == (
        ref.level, ref.department, ref.top_terms, ref.subject)


@pytest.mark.parametrize("batch", [1, 7, 256])
def test_judgements_equal_the_straightforward_path_on_the_corpus(model, rules, texts, batch):
    normalized = [prepare(t) for t in texts]
    scorer = ModelScorer(model, rules)
    references = reference_predictions(model, normalized)
    fast_predictions, judgements = [], []
    for i in range(0, len(texts), batch):
        fast_predictions += model.predict_normalized(normalized[i:i + batch])
        judgements += scorer.judge_many(texts[i:i + batch])
    assert len(judgements) == len(texts)
    for text, norm, fast, ref, judged in zip(texts, normalized, fast_predictions, references,
                                             judgements):
        assert_same_prediction(fast, ref)
        expected = ModelScorer._combine(ref, reference_hits(rules, norm))
        assert abs(judged.relevance - expected.relevance) <= 1e-9
        assert abs(judged.sensitivity - expected.sensitivity) <= 1e-9
        assert (judged.level, judged.department, judged.matched_rules, judged.explanation) == (
            expected.level, expected.department, expected.matched_rules, expected.explanation), text


def test_the_corpus_has_schemes_firing_and_tied_explanations(model, rules, texts):
    """Keeps the comparison above meaningful: the corpus exercises the rare paths."""
    normalized = [prepare(t) for t in texts]
    assert sum(bool(reference_hits(rules, n)) for n in normalized) > 100
    X = FastFeatures(model.vectorizer, model.backend).transform(normalized)
    contrib = X.multiply(model._why_weights).tocsr()
    tied = 0
    for i in range(X.shape[0]):
        top = np.sort(contrib.data[contrib.indptr[i]:contrib.indptr[i + 1]])[::-1][:9]
        tied += bool(np.any((top[1:] == top[:-1]) & (top[1:] > 0)))
    assert tied > 0


def test_fast_features_are_the_reference_rows_bit_for_bit(model, texts):
    normalized = [normalize(t)[:MAX_CHARS] for t in texts]
    reference = model.vectorizer.transform([words_of_normalized(t, model.backend)
                                            for t in normalized])
    fast = FastFeatures(model.vectorizer, model.backend).transform(normalized)
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)  # same order inside each row too
    assert np.array_equal(fast.data, reference.data)


def test_explanations_with_equal_contributions_are_ranked_as_one_row_alone_is():
    # Features weighed alike with the same weight tie; which of them are shown, in which order,
    # is then up to the sort, and must be what ranking the row alone gives, whatever the batch.
    width = 40
    model = TextModel(version="ties", vectorizer=Vectorizer({f"w{i}": i for i in range(width)},
                                                            np.ones(width)),
                      coef={"relevant": np.r_[np.ones(30), np.linspace(2, 3, 10)],
                            "warn": np.zeros(width)},
                      intercept={}, platt={}, thresholds={})
    rng = np.random.default_rng(0)
    rows = [rng.choice(width, size=rng.integers(1, width), replace=False) for _ in range(60)]
    X = sparse.csr_matrix((np.full(sum(map(len, rows)), 0.25), np.concatenate(rows),
                           np.cumsum([0] + [len(r) for r in rows])), shape=(len(rows), width))
    assert model._explain(X) == [model._why(X, i) for i in range(X.shape[0])]


def test_the_word_finder_finds_every_occurrence_and_none_across_two_texts():
    finder = WordFinder({"纪委", "纪委监委", "监委", "委监", "a", "ab", "b会"})
    texts = ["县纪委监委通报", "纪", "委", "ab", "", "xa", "b会昌", "纪委"]
    table = finder.table(texts)
    for text, row in zip(texts, table):
        assert {w for w, present in zip(finder.words, row) if present} == {
            w for w in finder.words if w in text}, text


def test_the_word_finder_reads_long_texts_in_chunks(monkeypatch):
    monkeypatch.setattr(WordFinder, "CHUNK", 10)
    finder = WordFinder({"举报", "会昌"})
    texts = ["会昌" * 20, "某人实名举报", "无关", "会", "昌举", "报"]
    assert finder.table(texts).tolist() == [[w in t for w in finder.words] for t in texts]
