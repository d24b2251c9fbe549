"""The trained model: TF-IDF over jieba words and word pairs, one logistic regression per head.

Heads, each scored on every article:

    relevant   does it concern discipline-inspection work?               (binary, calibrated)
    sensitive  negative opinion, accusation, scandal, incident?          (binary, calibrated)
    warn       the event: an alert-worthy event about officials (>= 2)   (binary, calibrated)
    major      the subject: is the commission itself accused (重大)?      (binary, calibrated)
    department 宣传部 / 信访室 / 案管室, trained on relevant texts only    (multinomial)
    genre      案件通报 / 投诉举报 / 新闻 / 评论 / 帖子 / 小说影视 / 模板广告  (multinomial)

Binary heads are calibrated with Platt scaling fitted on out-of-fold scores of the training split,
so 0.8 means roughly "eight in ten such texts were labelled so". The level is decided by
:func:`classifiers.levels.decide` over these signals and the cues read off the words
(classifiers.signals), with thresholds chosen on the same out-of-fold scores. Texts are cleaned of
mirror-site damage first (classifiers.clean). A model is saved as plain arrays and a vocabulary
(``model.npz``, ``vocab.json``) plus ``metadata.json``, not as a pickle of scikit-learn objects, so
it loads across library versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from classifiers.clean import prepare
from classifiers.features import FastFeatures, Vectorizer
from classifiers.levels import GENRES, Signals, decide, route
from classifiers.signals import read_cues
from classifiers.tokenize import Backend, available_backend
from pipeline.records import DEPARTMENTS

BINARY_HEADS = ("relevant", "sensitive", "warn", "major")
#: Heads with several classes, and their classes in column order.
MULTI_HEADS = {"department": DEPARTMENTS, "genre": GENRES}
#: Text beyond this many characters adds little to the judgement and only costs time: a 1 MB page
#: is scored on its title and the head of its body.
MAX_CHARS = 6000


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
    genre_probs: dict[str, float] = field(default_factory=dict)
    subject: str = ""
    reasons: tuple[str, ...] = ()


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
    _stack_cache: np.ndarray | None = field(default=None, repr=False, compare=False)
    _fast: "FastFeatures | None" = field(default=None, repr=False, compare=False)
    _fast_backend: str | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        # Caches hold the segmenter (not picklable) and are rebuilt on first use.
        return {**self.__dict__, "_fast": None, "_fast_backend": None, "_why_cache": None,
                "_stack_cache": None}

    # -- scoring ---------------------------------------------------------------------------
    def predict(self, texts: list[str]) -> list[Prediction]:
        return self.predict_normalized([prepare(t) for t in texts])

    def predict_normalized(self, texts: list[str], old: list[bool] | None = None
                           ) -> list[Prediction]:
        """:meth:`predict` for texts already through :func:`classifiers.clean.prepare`.

        ``old`` marks items published long before they were fetched (recency). One sparse product
        scores every head of the whole batch (the weights stacked as columns); each column is the
        same sum, in the same order, as that head's own product would be.
        """
        if self._fast is None or self._fast_backend != self.backend:
            self._fast, self._fast_backend = FastFeatures(self.vectorizer, self.backend), self.backend
        X = self._fast.transform([t[:MAX_CHARS] for t in texts])
        scores = X @ self._stacked
        probs = {}
        for k, head in enumerate(BINARY_HEADS):
            score = scores[:, k] + self.intercept[head][0]
            a, b = self.platt[head]
            probs[head] = (1.0 / (1.0 + np.exp(-(a * score + b)))).tolist()
        multi, start = {}, len(BINARY_HEADS)
        for head, classes in self.multi_heads.items():
            part = scores[:, start:start + len(classes)] + self.intercept[head]
            start += len(classes)
            part -= part.max(axis=1, keepdims=True)
            p = np.exp(part)
            p /= p.sum(axis=1, keepdims=True)
            multi[head] = [dict(zip(classes, row)) for row in p.tolist()]
        why = self._explain(X)
        cues = read_cues(texts)
        out = []
        for i, (relevant, sensitive, warn, major) in enumerate(zip(*map(probs.get, BINARY_HEADS))):
            offices = multi["department"][i]
            genre = multi["genre"][i] if "genre" in multi else {}
            decision = decide(Signals(relevant, sensitive, warn, major, genre, cues[i],
                                      bool(old[i]) if old else False), self.thresholds)
            level = decision.level
            office, routed = route(offices, cues[i], self.thresholds) if level else ("", "")
            out.append(Prediction(
                relevant=relevant, sensitive=sensitive, warn=warn, major=major,
                department_probs=offices, level=level, department=office,
                top_terms=why[i], genre_probs=genre, subject=decision.subject,
                reasons=decision.reasons + ((routed,) if routed else ()),
            ))
        return out

    @property
    def multi_heads(self) -> dict[str, tuple[str, ...]]:
        """The multi-class heads this model has (a model trained before the genre head has only
        the office), with their classes in column order."""
        return {h: c for h, c in MULTI_HEADS.items() if h in self.coef}

    def _explain(self, X: sparse.csr_matrix, n: int = 8) -> list[tuple[str, ...]]:
        """:meth:`_why` of every row, ranked for the whole batch in one sort.

        Where two of a row's first n+1 contributions are equal, which comes first (or which is
        kept) depends on the sort algorithm: those rows are ranked again by :meth:`_why` itself,
        so the explanation never depends on the batch.
        """
        contrib = X.data * self._why_weights[X.indices]
        positive = np.flatnonzero(contrib > 0)
        row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))[positive]
        value = contrib[positive]
        # By value, then by row with a stable sort (a radix sort for small integers): each row's
        # contributions in descending order, rows in order.
        order = np.argsort(-value)
        order = order[np.argsort(row[order].astype(np.min_scalar_type(X.shape[0])), kind="stable")]
        row, value, col = row[order], value[order], X.indices[positive[order]]
        rank = np.arange(len(row)) - np.searchsorted(row, np.arange(X.shape[0]))[row]
        shown = rank < n
        names = self.vectorizer.names()
        terms = [names[c] for c in col[shown].tolist()]
        out, i = [], 0
        for size in np.bincount(row[shown], minlength=X.shape[0]).tolist():
            out.append(tuple(terms[i:i + size]))
            i += size
        tied = (value[1:] == value[:-1]) & (row[1:] == row[:-1]) & (rank[1:] <= n)
        for r in np.unique(row[1:][tied]).tolist():
            out[r] = self._why(X, r, n)
        return out

    def _why(self, X: sparse.csr_matrix, i: int, n: int = 8) -> tuple[str, ...]:
        """The features of row ``i`` that pushed relevance and warning up most, strongest first
        (one row at a time: the definition :meth:`_explain` follows)."""
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

    @property
    def _stacked(self) -> np.ndarray:
        """Every head's weights as the columns of one matrix: binary heads, then the classes of
        each multi-class head."""
        if self._stack_cache is None:
            self._stack_cache = np.ascontiguousarray(np.column_stack(
                [self.coef[h] for h in BINARY_HEADS] + [self.coef[h].T for h in self.multi_heads]))
        return self._stack_cache

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
        heads = (*BINARY_HEADS, *(h for h in MULTI_HEADS if f"coef_{h}" in arrays))
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
