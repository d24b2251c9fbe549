"""Places a text names: tagging only the runs that hold an administrative suffix finds exactly
what tagging the whole text finds."""

from __future__ import annotations

import pytest

from classifiers.corpus import load_corpus
from classifiers.places import places, places_of_whole_text

# Written here: places next to digits and Latin letters, in traditional script, split by
# punctuation, a province without its suffix, and words the tagger marks as places that are not.
TEXTS = [
    "江西省赣州市会昌县筠门岭镇村民反映，镇里干部2024年拿走了补偿款。",
    "據网友爆料，廣東深圳市南山區某街道辦主任A某在KTV里……",
    "会昌县纪委监委通报：庄口镇、西江镇、周田镇3名村干部被处分",
    "河南郑州一男子在城市上门服务时被骗，与官员无关。",
    "XX县（县城）第3季度GDP增长，乡镇企业hello123 world镇",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_written_texts_give_the_same_places_as_the_whole_text_tagged(text):
    assert places(text) == places_of_whole_text(text)


def test_the_corpus_gives_the_same_places_as_the_whole_text_tagged():
    texts = [e.full_text for e in load_corpus()][::4]
    different = [(t[:40], places(t), places_of_whole_text(t)) for t in texts
                 if places(t) != places_of_whole_text(t)]
    assert different == []
    # the comparison means something: many texts name a place (most write 某县 instead)
    assert sum(bool(places(t)) for t in texts) > len(texts) // 6


def test_places_come_in_order_of_mention_with_provinces_named_without_suffix():
    assert places(TEXTS[0]) == ["江西省", "赣州市", "会昌县", "筠门岭镇", "江西"]
    assert places(TEXTS[1]) == ["深圳市", "南山区", "广东"]
    assert places(TEXTS[3]) == ["河南"]  # 城市 and 上门 are tagged as places and left out
