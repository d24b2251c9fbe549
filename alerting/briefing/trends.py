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

Words that rise without being a 苗头 are removed by rule, not one by one:

- vocabulary of the commission's own work (:data:`ADMINISTRATIVE_WORDS`: 接受, 严重, 中央, 审查 ...),
  which every report about discipline uses whatever happened;
- the home names (``home_names``: the county, its towns and its own bodies, from alerting.yaml):
  a term containing one (会昌县, 筠门岭镇) says where, never what;
- everyday words by document frequency across periods: given ``background`` (the periods of equal
  length before the previous one), a term found in at least ``background_share`` of them is part of
  what is always said and is dropped, whatever its lift this time.

Each term carries up to three example headlines (``titles``, in the order given) of the current
documents that contain it, so the reader sees what the word stands for.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from alerting.briefing.data import TermTrend
from classifiers.tokenize import stopwords

__all__ = ["ADMINISTRATIVE_WORDS", "GENERIC_WORDS", "rising_terms"]

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

#: The commission's own vocabulary: found in any report on discipline, so its rise says nothing
#: about what is happening (the 苗头 is the 截留 or the 顶包, not the 审查 that follows it).
ADMINISTRATIVE_WORDS = frozenset(
    """
    中央 中共 中共中央 党中央 国家 省委 市委 县委 县政府 政府 人民政府 纪委 监委 纪委监委 纪检 监察
    纪检监察 纪律检查 委员会 国家监委 中央纪委 纪律 审查 调查 审查调查 监察调查 立案 接受
    严重 涉嫌 违纪 违法 违纪违法 职务违法 党员 干部 领导 领导干部 组织 党组织 单位 负责人 主任
    书记 局长 镇长 乡长 县长 副县长 工作人员 处分 党纪 政务 通报 典型 案例
    问题 线索 监督 检查 整改 落实 加强 推进 部署 会议 召开 要求 强调 依法 依规 依纪 规定 有关
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


def _document_sets(documents: Iterable[list[str]], ignore: frozenset[str]) -> list[set[str]]:
    return [{t for t in tokens if _is_term(t, ignore)} for tokens in documents]


def _frequency(sets: list[set[str]]) -> Counter:
    df: Counter[str] = Counter()
    for terms in sets:
        df.update(terms)
    return df


def _is_home(term: str, home: tuple[str, ...]) -> bool:
    return any(name in term for name in home)


def _everyday(background: Iterable[Iterable[list[str]]], ignore: frozenset[str], share: float) -> frozenset[str]:
    """Terms found in at least ``share`` of the background periods (with at least three periods,
    fewer say nothing about what is usual)."""
    periods = [set().union(*_document_sets(docs, ignore)) for docs in background]
    if len(periods) < 3:
        return frozenset()
    seen = Counter(term for terms in periods for term in terms)
    return frozenset(term for term, n in seen.items() if n >= share * len(periods))


def rising_terms(
    current: Iterable[list[str]],
    previous: Iterable[list[str]],
    top: int = 10,
    min_count: int = 3,
    *,
    min_ratio: float = 1.5,
    stopwords: Iterable[str] | None = None,
    titles: Sequence[str] | None = None,
    home_names: Iterable[str] = (),
    background: Iterable[Iterable[list[str]]] = (),
    background_share: float = 0.5,
) -> list[TermTrend]:
    """The ``top`` terms most notably rising from ``previous`` to ``current``, best first.

    Each input is an iterable of documents, each document a list of tokens (``classifiers.tokenize``
    output). Single characters, pure numbers, tokens with neither a Chinese character nor two
    letters, the tokenizer's stopwords, :data:`GENERIC_WORDS`, :data:`ADMINISTRATIVE_WORDS`,
    ``stopwords``, terms containing one of ``home_names`` and terms everyday in ``background``
    (see the module docstring) are ignored. ``titles``, when given, are the headlines of
    ``current``'s documents in the same order (a ``ValueError`` when the lengths differ); each
    result carries up to three of them as examples. ``count``/``previous`` in the result are
    document frequencies; ties are broken by count, then by the term, so the output is
    deterministic. Returns ``[]`` when nothing rises.
    """
    if top <= 0:
        return []
    home = tuple(n for n in dict.fromkeys(home_names) if n)
    ignore = _tokenizer_stopwords() | GENERIC_WORDS | ADMINISTRATIVE_WORDS | frozenset(stopwords or ())
    now_sets = _document_sets(current, ignore)
    if titles is not None and len(titles) != len(now_sets):
        raise ValueError(f"rising_terms: {len(titles)} titles for {len(now_sets)} documents; give one per document")
    before_sets = _document_sets(previous, ignore)
    df_now, n_now = _frequency(now_sets), len(now_sets)
    df_before, n_before = _frequency(before_sets), len(before_sets)
    everyday = _everyday(background, ignore, background_share)
    scale = n_now / n_before if n_before else 0.0
    floor = math.log(min_ratio)

    scored = []
    for term, count in df_now.items():
        if count < min_count or term in everyday or _is_home(term, home):
            continue
        before = df_before.get(term, 0)
        lift = math.log((count + 1) / (before * scale + 1))
        if lift < floor or lift <= 0:
            continue
        scored.append((term, count, before, round(lift * math.log1p(count), 4)))
    scored.sort(key=lambda t: (-t[3], -t[1], t[0]))
    return [TermTrend(term, count, before, score, _examples(term, now_sets, titles))
            for term, count, before, score in scored[:top]]


def _examples(term: str, sets: list[set[str]], titles: Sequence[str] | None, most: int = 3) -> tuple[str, ...]:
    if titles is None:
        return ()
    found: list[str] = []
    for terms, title in zip(sets, titles):
        if term in terms and title not in found:
            found.append(title)
            if len(found) == most:
                break
    return tuple(found)
