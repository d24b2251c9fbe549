"""Features: TF-IDF over words and adjacent word pairs, the straightforward way and the fast way.

:class:`Vectorizer` is the reference (training and tests): feature strings, a dictionary lookup
each. :class:`FastFeatures` is what scoring uses: it gives exactly the same rows, bit for bit
(tested on the corpus), for a whole batch of texts in one pass:

1. each segmenter token maps, through a memo looked up in C, to one integer: the vocabulary id of
   the single word it yields (-1 when the word is not in the vocabulary), ``NO_WORD`` when it
   yields none (punctuation, stopwords, 某), or a reference to a short list when it yields several
   (``2024-03-08`` gives three numbers);
2. a word pair's id is found with integer arithmetic and one binary search over the vocabulary's
   pairs, for every adjacent pair of the batch at once (pairs never cross two texts);
3. counting, TF-IDF weighting and normalisation happen once for the batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
from scipy import sparse

from classifiers.tokenize import KEPT, Backend, segmenter

__all__ = ["FastFeatures", "Vectorizer", "features"]

#: Codes of tokens that yield no word (punctuation, stopwords) or several (see FastFeatures).
NO_WORD = -2
_SEVERAL = -3  # a token yielding several words has code _SEVERAL - (its index in the side list)


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
        """TF-IDF rows from each document's feature ids (-1 for features not in the vocabulary)."""
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


class _TokenCodes(dict):
    """token → its code (see the module docstring); looked up in C, computed once per token.

    Codes below ``_SEVERAL`` point into ``several``, so a full memo is replaced, never cleared:
    a batch being built elsewhere keeps the memo it started with.
    """

    LIMIT = 500_000  # numbers and names make the set of tokens open-ended

    def __init__(self, unigram: dict[str, int], kept):
        super().__init__()
        self.unigram = unigram
        self.kept = kept
        self.several: list[np.ndarray] = []
        self._lock = threading.Lock()

    def __missing__(self, token: str) -> int:
        get = self.unigram.get
        ids = [get(w, -1) for w in self.kept[token]]
        if len(ids) == 1:
            code = ids[0]
        elif not ids:
            code = NO_WORD
        else:
            with self._lock:  # the index and the append go together
                code = _SEVERAL - len(self.several)
                self.several.append(np.array(ids, dtype=np.int64))
        self[token] = code
        return code

    def fresh(self) -> "_TokenCodes":
        """This memo, or an empty one in its place once it is large."""
        return self if len(self) < self.LIMIT else _TokenCodes(self.unigram, self.kept)


class FastFeatures:
    """:meth:`Vectorizer.transform` of normalised texts, segmented here, for a batch at once.

    ``transform(texts)`` returns the same CSR rows as the reference, with the same column order
    inside each row (the reference's scaling leaves columns in descending order), so the heads'
    sums come out bit for bit the same. A pair can only be in the vocabulary when both its words
    are, since each of them occurs wherever the pair does: that is why a pair is looked up only
    when its first word starts some pair of the vocabulary and its second ends one.
    """

    def __init__(self, vectorizer: Vectorizer, backend: Backend):
        self.vectorizer = vectorizer
        self.idf = vectorizer.idf
        self.cut = segmenter(backend)
        unigram = {f: i for f, i in vectorizer.vocabulary.items() if " " not in f}
        self.width = len(vectorizer.vocabulary)
        # Ids are packed into integers with shifts (a feature id takes `bits` bits).
        self.bits = max(self.width - 1, 1).bit_length()
        pairs = []
        for f, i in vectorizer.vocabulary.items():
            if " " in f:
                a, b = f.split(" ", 1)
                ia, ib = unigram.get(a), unigram.get(b)
                if ia is not None and ib is not None:
                    pairs.append((ia << self.bits | ib, i))
        pairs.sort()
        self.pair_keys = np.array([k for k, _ in pairs], dtype=np.int64)
        self.pair_ids = np.array([i for _, i in pairs], dtype=np.int64)
        # Which words start or end a pair; one more entry, False, is what id -1 reads.
        self.starts_pair = np.zeros(self.width + 1, dtype=bool)
        self.ends_pair = np.zeros(self.width + 1, dtype=bool)
        self.starts_pair[self.pair_keys >> self.bits] = True
        self.ends_pair[self.pair_keys & ((1 << self.bits) - 1)] = True
        self.codes = _TokenCodes(unigram, KEPT)

    def words(self, normalized_texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word ids of the batch, text after text (-1: not in the vocabulary), and where each
        text's words end."""
        codes = self.codes = self.codes.fresh()
        lookup, cut = codes.__getitem__, self.cut
        # Text by text, so that a text's tokens are freed before the next is cut (a batch's
        # tokens all at once held about 20 MB more, for no gain in speed).
        per_text = [np.fromiter(map(lookup, tokens), dtype=np.int64, count=len(tokens))
                    for tokens in map(cut, normalized_texts)]
        code = np.concatenate(per_text) if per_text else np.zeros(0, dtype=np.int64)
        ends = np.cumsum(np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text)))
        # How many words each token yields: 0, 1, or (a code below _SEVERAL) a few.
        yields = (code != NO_WORD).astype(np.int64)
        several = np.flatnonzero(code <= _SEVERAL)
        pieces = [codes.several[_SEVERAL - c] for c in code[several].tolist()]
        sizes = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        yields[several] = sizes
        before = np.zeros(len(code) + 1, dtype=np.int64)  # words before each token
        np.cumsum(yields, out=before[1:])
        words = np.repeat(code, yields)
        if len(pieces):
            within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            words[np.repeat(before[several], sizes) + within] = np.concatenate(pieces)
        return words, before[ends]

    def _pairs(self, words: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary's pairs among adjacent words of each text: (text, feature id) each.

        Sorted before the binary search (text and pair packed in one integer), which makes the
        search several times faster than on pairs in text order.
        """
        n = len(ends)
        candidate = self.starts_pair[words[:-1]] & self.ends_pair[words[1:]]
        across = ends[:-1] - 1  # a text's last word and the next text's first are no pair
        candidate[across[(across >= 0) & (across < len(candidate))]] = False
        at = np.flatnonzero(candidate)
        text_bits = max(n - 1, 1).bit_length()
        text = np.repeat(np.arange(n), np.diff(ends, prepend=0))
        packed = (words[at] << self.bits | words[at + 1]) << text_bits | text[at]
        packed.sort()
        keys, text_of = packed >> text_bits, packed & ((1 << text_bits) - 1)
        if not len(self.pair_keys):
            return text_of[:0], text_of[:0]
        pos = np.searchsorted(self.pair_keys, keys)
        pos[pos >= len(self.pair_keys)] = 0
        found = self.pair_keys[pos] == keys
        return text_of[found], self.pair_ids[pos[found]]

    def transform(self, normalized_texts: list[str]) -> sparse.csr_matrix:
        n, bits = len(normalized_texts), self.bits
        words, ends = self.words(normalized_texts)
        pair_text, pair_ids = self._pairs(words, ends)
        text = np.repeat(np.arange(n), np.diff(ends, prepend=0))
        known = words >= 0
        key = np.concatenate([text[known] << bits | words[known], pair_text << bits | pair_ids])
        key.sort()
        # One entry per (text, feature), in row-major order: the reference's counts matrix.
        first = np.ones(len(key), dtype=bool)
        np.not_equal(key[1:], key[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        counts = np.diff(starts, append=len(key)).astype(np.float64)
        rows, cols = key[starts] >> bits, key[starts] & ((1 << bits) - 1)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        data = (1.0 + np.log(counts)) * self.idf[cols]
        # The norms as the reference computes them (same summation order, same bits).
        weighted = sparse.csr_matrix((data, cols, indptr), shape=(n, self.width))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        data = data * (1.0 / norms)[rows]
        # Columns in descending order within each row, as the reference's ``diags @ counts``
        # leaves them: sums over a row then add up in the same order.
        mirrored = indptr[rows] + indptr[rows + 1] - 1 - np.arange(len(rows))
        return sparse.csr_matrix((data[mirrored], cols[mirrored], indptr), shape=(n, self.width))
