"""The trained model: TF-IDF over jieba words and word pairs, one logistic regression per head.

Heads, each scored on every article:

    relevant   does it concern discipline-inspection work?               (binary, calibrated)
    sensitive  negative opinion, accusation, scandal, incident?          (binary, calibrated)
    warn       level >= 2 (较大 or 重大)?                                  (binary, calibrated)
    major      level 3 (重大)?                                            (binary, calibrated)
    department 宣传部 / 信访室 / 案管室, trained on relevant texts only    (multinomial)

Binary heads are calibrated with Platt scaling fitted on out-of-fold scores of the training split,
so 0.8 means roughly "eight in ten such texts were labelled so". The level follows from the
calibrated probabilities and thresholds chosen on the same out-of-fold scores (recall first for
level >= 2). A model is saved as plain arrays and a vocabulary (``model.npz``, ``vocab.json``) plus
``metadata.json``, not as a pickle of scikit-learn objects, so it loads across library versions.
"""

from __future__ import annotations

import json
from itertools import chain, repeat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from classifiers.tokenize import Backend, available_backend
from pipeline import text
from pipeline.records import DEPARTMENTS

BINARY_HEADS = ("relevant", "sensitive", "warn", "major")
#: Text beyond this many characters adds little to the judgement and only costs time: a 1 MB page
#: is scored on its title and the head of its body.
MAX_CHARS = 6000


def features(words: list[str]) -> list[str]:
    """Words and adjacent word pairs: pairs catch 接受/审查 or 开除/党籍 as phrases."""
    return words + list(map(" ".join, zip(words, words[1:])))


@dataclass
class Vectorizer:
    """TF-IDF with sublinear term frequency and L2 normalisation over a fixed vocabulary."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    _names: list[str] | None = field(default=None, repr=False)

    def names(self) -> list[str]:
        """Feature names in column order."""
        if self._names is None:
            names = [""] * len(self.vocabulary)
            for f, i in self.vocabulary.items():
                names[i] = f
            self._names = names
        return self._names

    def transform(self, docs: list[list[str]]) -> sparse.csr_matrix:
        """TF-IDF rows of word lists (training and tests; scoring uses :class:`FastFeatures`)."""
        get = self.vocabulary.get
        return self.weigh([np.fromiter(map(get, f, repeat(-1)), dtype=np.int64, count=len(f))
                           for f in map(features, docs)])

    def weigh(self, per_doc: list[np.ndarray]) -> sparse.csr_matrix:
        """TF-IDF rows from each document's feature ids (-1 for features not in the vocabulary).

        Counting, weighting and normalising happen once for the whole batch: per-document numpy
        calls would cost more than the arithmetic.
        """
        lengths = np.fromiter(map(len, per_doc), dtype=np.int64, count=len(per_doc))
        ids = np.concatenate(per_doc) if per_doc else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(per_doc)), lengths)
        known = ids >= 0
        counts = sparse.csr_matrix((np.ones(int(known.sum())), (rows[known], ids[known])),
                                   shape=(len(per_doc), len(self.idf)))
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms) @ counts


class _TokenIds(dict):
    """token → vocabulary ids of the words it yields; looked up in C, computed once per token."""

    LIMIT = 500_000  # numbers and names make the set of tokens open-ended

    def __init__(self, unigram: dict[str, int], kept):
        super().__init__()
        self.unigram = unigram
        self.kept = kept

    def __missing__(self, token: str) -> tuple[int, ...]:
        if len(self) >= self.LIMIT:
            self.clear()
        get = self.unigram.get
        ids = self[token] = tuple(get(w, -1) for w in self.kept[token])
        return ids


class FastFeatures:
    """Feature ids of normalised text without building feature strings.

    Each segmenter token maps (once, memoised) to the vocabulary ids of the words it yields, -1
    for words outside the vocabulary; a word pair's id is then found with integer arithmetic and
    a binary search over the vocabulary's pairs, for the whole document at once. Gives exactly
    :meth:`Vectorizer.transform`'s features (tested), at a fraction of the cost: a pair can only
    be in the vocabulary when both its words are, since each of them occurs wherever it does.
    """

    def __init__(self, vectorizer: Vectorizer, backend: Backend):
        from classifiers.tokenize import _KEPT, _segmenter

        self.vectorizer = vectorizer
        self.cut = _segmenter(backend)
        self.kept = _KEPT
        self.unigram = {f: i for f, i in vectorizer.vocabulary.items() if " " not in f}
        self.width = len(vectorizer.vocabulary)
        pairs = []
        for f, i in vectorizer.vocabulary.items():
            if " " in f:
                a, b = f.split(" ", 1)
                ia, ib = self.unigram.get(a), self.unigram.get(b)
                if ia is not None and ib is not None:
                    pairs.append((ia * self.width + ib, i))
        pairs.sort()
        self.pair_keys = np.array([k for k, _ in pairs], dtype=np.int64)
        self.pair_ids = np.array([i for _, i in pairs], dtype=np.int64)
        self.memo = _TokenIds(self.unigram, self.kept)

    def ids(self, normalized: str) -> np.ndarray:
        words = np.fromiter(chain.from_iterable(map(self.memo.__getitem__, self.cut(normalized))),
                            dtype=np.int64)
        left, right = words[:-1], words[1:]
        both = (left >= 0) & (right >= 0)
        keys = left[both] * self.width + right[both]
        pos = np.searchsorted(self.pair_keys, keys)
        pos[pos >= len(self.pair_keys)] = 0
        found = self.pair_keys[pos] == keys if len(self.pair_keys) else np.zeros(0, bool)
        return np.concatenate([words[words >= 0], self.pair_ids[pos[found]]])

    def transform(self, normalized_texts: list[str]) -> sparse.csr_matrix:
        return self.vectorizer.weigh([self.ids(t) for t in normalized_texts])


@dataclass
class Prediction:
    """Calibrated probabilities of one text, the level and office they imply, and why."""

    relevant: float
    sensitive: float
    warn: float
    major: float
    department_probs: dict[str, float]
    level: int
    department: str
    top_terms: tuple[str, ...]


@dataclass
class TextModel:
    """A trained model. ``predict(texts)`` → one :class:`Prediction` per text.

    Built by :func:`classifiers.training.train` or :meth:`load`; raises ``ValueError`` on load when
    the files are missing or do not fit together.
    """

    version: str
    vectorizer: Vectorizer
    coef: dict[str, np.ndarray]  # head → weights (binary heads: 1-D; department: 2-D)
    intercept: dict[str, np.ndarray]
    platt: dict[str, tuple[float, float]]  # binary head → (a, b): p = 1 / (1 + exp(-(a*s + b)))
    thresholds: dict[str, float]
    metadata: dict = field(default_factory=dict)
    backend: Backend = field(default_factory=available_backend)
    _why_cache: np.ndarray | None = field(default=None, repr=False, compare=False)
    _fast: "FastFeatures | None" = field(default=None, repr=False, compare=False)
    _fast_backend: str | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        # Caches hold the segmenter (not picklable) and are rebuilt on first use.
        return {**self.__dict__, "_fast": None, "_fast_backend": None, "_why_cache": None}

    # -- scoring ---------------------------------------------------------------------------
    def predict(self, texts: list[str]) -> list[Prediction]:
        return self.predict_normalized([text.normalize(t[:MAX_CHARS]) for t in texts])

    def predict_normalized(self, texts: list[str]) -> list[Prediction]:
        """:meth:`predict` for texts already through ``pipeline.text.normalize``."""
        if self._fast is None or self._fast_backend != self.backend:
            self._fast, self._fast_backend = FastFeatures(self.vectorizer, self.backend), self.backend
        X = self._fast.transform([t[:MAX_CHARS] for t in texts])
        probs = {}
        for head in BINARY_HEADS:
            score = X @ self.coef[head] + self.intercept[head][0]
            a, b = self.platt[head]
            probs[head] = 1.0 / (1.0 + np.exp(-(a * score + b)))
        dep_scores = X @ self.coef["department"].T + self.intercept["department"]
        dep_scores -= dep_scores.max(axis=1, keepdims=True)
        dep_probs = np.exp(dep_scores)
        dep_probs /= dep_probs.sum(axis=1, keepdims=True)
        out = []
        for i in range(len(texts)):
            p = {h: float(probs[h][i]) for h in BINARY_HEADS}
            level = self.level_of(p)
            department = DEPARTMENTS[int(dep_probs[i].argmax())] if level else ""
            out.append(Prediction(
                relevant=p["relevant"], sensitive=p["sensitive"], warn=p["warn"],
                major=p["major"],
                department_probs={d: float(dep_probs[i, k]) for k, d in enumerate(DEPARTMENTS)},
                level=level, department=department, top_terms=self._why(X, i),
            ))
        return out

    def level_of(self, p: dict[str, float]) -> int:
        t = self.thresholds
        if p["relevant"] < t["relevant"] and p["warn"] < t["warn"]:
            return 0
        if p["major"] >= t["major"]:
            return 3
        if p["warn"] >= t["warn"]:
            return 2
        return 1

    def _why(self, X: sparse.csr_matrix, i: int, n: int = 8) -> tuple[str, ...]:
        """The features of row ``i`` that pushed relevance and warning up most, strongest first."""
        start, end = X.indptr[i], X.indptr[i + 1]
        if start == end:
            return ()
        cols = X.indices[start:end]
        contrib = X.data[start:end] * self._why_weights[cols]
        order = np.argsort(-contrib)[:n]
        names = self.vectorizer.names()
        return tuple(names[cols[k]] for k in order if contrib[k] > 0)

    @property
    def _why_weights(self) -> np.ndarray:
        if self._why_cache is None:
            self._why_cache = self.coef["relevant"] + self.coef["warn"]
        return self._why_cache

    # -- files -----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"idf": self.vectorizer.idf.astype(np.float32)}
        for head, w in self.coef.items():
            arrays[f"coef_{head}"] = w.astype(np.float32)
            arrays[f"intercept_{head}"] = self.intercept[head].astype(np.float64)
        np.savez_compressed(directory / "model.npz", **arrays)
        names = self.vectorizer.names()
        (directory / "vocab.json").write_text(json.dumps(names, ensure_ascii=False), "utf-8")
        meta = {**self.metadata, "version": self.version, "platt": self.platt,
                "thresholds": self.thresholds}
        (directory / "metadata.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> "TextModel":
        try:
            meta = json.loads((directory / "metadata.json").read_text("utf-8"))
            names = json.loads((directory / "vocab.json").read_text("utf-8"))
            arrays = np.load(directory / "model.npz")
        except FileNotFoundError as exc:
            raise ValueError(f"{directory}: not a model ({exc.filename} is missing)") from None
        vectorizer = Vectorizer({f: i for i, f in enumerate(names)},
                                arrays["idf"].astype(np.float64))
        heads = (*BINARY_HEADS, "department")
        coef = {h: arrays[f"coef_{h}"].astype(np.float64) for h in heads}
        if any(c.shape[-1] != len(names) for c in coef.values()):
            raise ValueError(f"{directory}: weights and vocabulary do not match")
        model = cls(
            version=meta["version"], vectorizer=vectorizer, coef=coef,
            intercept={h: arrays[f"intercept_{h}"] for h in heads},
            platt={h: tuple(v) for h, v in meta["platt"].items()},
            thresholds=meta["thresholds"], metadata=meta,
        )
        return model
