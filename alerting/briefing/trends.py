"""Terms rising against the previous period: the 苗头性、倾向性 part of the briefing.

The rules ask the regular meeting to "分析苗头性、倾向性敏感舆情": what people start talking about,
before it becomes a story. Here that is a term whose share of documents went up sharply, or that is
new, and that has enough documents to be more than noise.

For each term, ``df`` is the number of documents that contain it (a page repeating a word forty
times counts once). The previous period's count is scaled to the current period's number of
documents (a busier day should not make every word "rise"), and then::

    lift  = ln((df_now + 1) / (df_before_scaled + 1))        add-one smoothing: new terms are finite
    score = lift * ln(1 + df_now)                             more documents, more confidence

Only terms with ``df_now >= min_count`` and a lift of at least ``ln(min_ratio)`` are kept. A term
new in five documents scores ln 6 * ln 6 = 3.2; a steady term scores about 0 whatever its volume.
When the previous period has no documents at all, every term counts as new.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from alerting.briefing.data import TermTrend
from classifiers.tokenize import stopwords

__all__ = ["GENERIC_WORDS", "rising_terms"]

#: Words too generic to be a 苗头 even when they rise: reporting boilerplate and office vocabulary.
#: (The tokenizer's own stopwords, function words only, are removed as well.)
GENERIC_WORDS = frozenset(
    """
    问题 情况 工作 表示 记者 网友 发布 报道 相关 进行 开展 今天 昨天 今日 昨日 目前 近日 日前 有关
    部门 全文 来源 编辑 责任编辑 视频 图片 点击 转载 原标题 阅读 评论 微信 微博 公众号 链接 网页 文章
    消息 信息 时间 地方 回复 通报 显示 已经 没有 不是 就是 这种 还是 可能 需要 知道 现在 当时
    出来 起来 认为 希望 要求 发现 反映 小编 官方 网站 分享 关注
    """.split()
)

_NUMBER = re.compile(r"^[\d０-９.,，．%％:：/\-+]+$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTERS = re.compile(r"[A-Za-z]{2,}")


def _tokenizer_stopwords() -> frozenset[str]:
    """The classifier's stopword list, so the briefing ignores what the classifier ignores."""
    return stopwords()


def _is_term(token: str, ignore: frozenset[str]) -> bool:
    if len(token) < 2 or token in ignore or _NUMBER.match(token):
        return False
    return bool(_CJK.search(token) or _LETTERS.search(token))


def _document_frequency(documents: Iterable[list[str]], ignore: frozenset[str]) -> tuple[Counter, int]:
    df: Counter[str] = Counter()
    n = 0
    for tokens in documents:
        n += 1
        df.update({t for t in tokens if _is_term(t, ignore)})
    return df, n


def rising_terms(
    current: Iterable[list[str]],
    previous: Iterable[list[str]],
    top: int = 10,
    min_count: int = 3,
    *,
    min_ratio: float = 1.5,
    stopwords: Iterable[str] | None = None,
) -> list[TermTrend]:
    """The ``top`` terms most notably rising from ``previous`` to ``current``, best first.

    Each input is an iterable of documents, each document a list of tokens (``classifiers.tokenize``
    output). Single characters, pure numbers, tokens with neither a Chinese character nor two
    letters, the tokenizer's stopwords, :data:`GENERIC_WORDS` and ``stopwords`` are ignored.
    ``count``/``previous`` in the result are document frequencies; ties are broken by count, then
    by the term, so the output is deterministic. Returns ``[]`` when nothing rises.
    """
    if top <= 0:
        return []
    ignore = _tokenizer_stopwords() | GENERIC_WORDS | frozenset(stopwords or ())
    df_now, n_now = _document_frequency(current, ignore)
    df_before, n_before = _document_frequency(previous, ignore)
    scale = n_now / n_before if n_before else 0.0
    floor = math.log(min_ratio)

    trends = []
    for term, count in df_now.items():
        if count < min_count:
            continue
        before = df_before.get(term, 0)
        lift = math.log((count + 1) / (before * scale + 1))
        if lift < floor or lift <= 0:
            continue
        score = lift * math.log1p(count)
        trends.append(TermTrend(term, count, before, round(score, 4)))
    trends.sort(key=lambda t: (-t.score, -t.count, t.term))
    return trends[:top]
