"""Places a text names: the administrative places (provinces, cities, counties, districts, towns)
that say where an item happened, for the locality of an alert (:mod:`alerting.locality`).

jieba's part-of-speech tagger marks place names (``ns``), but it also marks words that are not
places (镇里, 城市, 上门); so a tagged word counts only when it is an administrative name (ending in
省, 市, 县, 区, 州, 盟, 旗, 镇 or 乡, three characters or more) or a province, which texts often
name without its suffix (河南郑州, 广东深圳).
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

import jieba
import jieba.posseg

from pipeline.text import normalize

__all__ = ["places", "places_of_whole_text", "PROVINCES"]

#: the provincial-level divisions by the names texts use for them
PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
             "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川",
             "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门")
#: the last character of an administrative name
_SUFFIXES = "省市县区州盟旗镇乡"
_ADMINISTRATIVE = re.compile(f"[\u4e00-\u9fff]{{2,}}[{_SUFFIXES}]")
_PROVINCE = re.compile("|".join(PROVINCES))


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _tagger() -> jieba.posseg.POSTokenizer:
    """The tagger, its dictionary loaded on first use (about a second), not on import; loaded
    whole under a lock, since jieba's lazy loading is not thread-safe (console requests and the
    intake step may locate at once)."""
    with _loading:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return jieba.posseg.POSTokenizer(tokenizer)


#: The runs of text jieba's tagger cuts one at a time (its own ``re_han_internal``): a word never
#: spans two of them, and how one run is cut does not depend on the others.
_RUN = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._]+")
_SUFFIX = re.compile(f"[{_SUFFIXES}]")


def places(text: str, normalized: bool = False) -> list[str]:
    """The places ``text`` names (simplified script), in order of first mention, each once;
    ``normalized`` when it has been through :func:`pipeline.text.normalize` already.

    Only the runs holding an administrative suffix are tagged: a kept word ends in one, and
    the tagger cuts each run on its own, so the result is what tagging the whole text gives
    (``tests/classifiers/test_places.py``) at about a fifth of the cost."""
    folded = text if normalized else normalize(text)
    return _named(folded, "\n".join(run for run in _RUN.findall(folded) if _SUFFIX.search(run)))


def places_of_whole_text(text: str) -> list[str]:
    """:func:`places` with every run tagged: the reference it is tested against."""
    folded = normalize(text)
    return _named(folded, folded)


def _named(folded: str, tagged: str) -> list[str]:
    found = [word for word, flag in _tagger().cut(tagged)
             if flag.startswith("ns") and _ADMINISTRATIVE.fullmatch(word)]
    found += _PROVINCE.findall(folded)
    return list(dict.fromkeys(found))
