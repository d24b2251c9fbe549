"""Words for the classifier: normalise, segment with jieba (or rjieba), drop stopwords.

Two backends give the same tokens (tested on the whole corpus): ``jieba`` (the reference, pure
Python, about 0.2 M characters a second here) and ``rjieba`` (a Rust port with the same dictionary,
about 30 times faster). Both load the discipline-inspection dictionary ``pipeline/dicts/jijian.txt``,
so 留置, 双开, 八项规定 and 吃拿卡要 are single words. The two differ only in how they cut runs of
ASCII (rjieba keeps 2024-03-02 and 5t whole), so non-Chinese tokens are post-processed into plain
runs of digits or of letters, which is also what the features want.
"""

from __future__ import annotations

import re
from itertools import chain
from functools import lru_cache
from importlib import resources
from typing import Callable

from pipeline import text

Backend = text.Backend

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KEEP = re.compile(f"[{_CJK}]")
_ALNUM = re.compile(r"[0-9]+|[a-z]+")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    raw = (resources.files("classifiers") / "dicts" / "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w for w in raw.split() if not w.startswith("#"))


def segmenter(backend: Backend) -> Callable[[str], list[str]]:
    """The cut function of ``backend`` (raw tokens, before :data:`KEPT` filters them)."""
    return text.segmenter(backend).cut


available_backend = text.default_backend


def tokens(raw: str, backend: Backend = "jieba") -> list[str]:
    """Words of ``raw`` after normalisation; punctuation, spaces and stopwords dropped."""
    return words_of_normalized(text.normalize(raw), backend)


def words_of_normalized(normalized: str, backend: Backend = "jieba") -> list[str]:
    """:func:`tokens` for text that already went through ``pipeline.text.normalize``."""
    return list(chain.from_iterable(map(KEPT.__getitem__, segmenter(backend)(normalized))))


def _keep(token: str) -> tuple[str, ...]:
    """What one segmenter token contributes to the words (often nothing)."""
    # 某 stands in for a withheld name (张某某, 某县, 某局长): it says nothing about the topic,
    # and the corpus, written with invented names, uses it far more than real pages do.
    token = token.lstrip("某")
    stop = stopwords()
    if _KEEP.search(token):
        return () if token in stop else (token,)
    return tuple(t for t in _ALNUM.findall(token) if t not in stop)


class _Memo(dict):
    """token → its contribution, computed once: a page has ~800 tokens but few new ones, so the
    per-token work runs in C (dict lookups) instead of a Python loop. Bounded, since numbers and
    names make the set of distinct tokens open-ended."""

    LIMIT = 500_000

    def __missing__(self, token: str) -> tuple[str, ...]:
        if len(self) >= self.LIMIT:
            self.clear()
        kept = self[token] = _keep(token)
        return kept


#: token → the words it contributes (often none), memoised; shared by every tokenizing caller
KEPT = _Memo()
