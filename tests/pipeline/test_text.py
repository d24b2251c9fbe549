"""Normalisation, search units and canonical URLs."""

import re

from pipeline import text


def test_normalize_folds_traditional_full_width_and_case():
    assert text.normalize("監察委員會 ＡＢＣ１２３") == "监察委员会 abc123"


def test_search_units_are_characters_and_ascii_words():
    assert text.search_units("纪委2026年GDP") == ["纪", "委", "2026", "年", "gdp"]


def test_search_words_include_short_words_inside_long_ones():
    words = text.search_words("会昌县纪委监委贯彻中央八项规定精神")
    assert {"会昌", "会昌县", "纪委", "八项规定"} <= set(words)


def test_detect_script():
    assert text.detect_script("纪委监委通报") == "simplified"
    assert text.detect_script("紀委監委通報") == "traditional"
    assert text.detect_script("hello 123") == "none"
    # one traditional character quoted in a simplified page does not flip the page
    assert text.detect_script("在“臺”字招牌下，县纪委监委干部走访商户了解营商环境情况。") == "simplified"


def test_canonical_url_drops_tracking_and_fragment_and_sorts_query():
    assert (text.canonical_url("HTTPS://News.Example.CN:443/a/b.html?b=2&utm_medium=x&a=1#comments")
            == "https://news.example.cn/a/b.html?a=1&b=2")
    assert text.canonical_url("http://example.cn:8080") == "http://example.cn:8080/"


def test_search_words_are_the_segmenters_words_that_have_a_unit():
    texts = ["会昌县纪委监委通报：2026年1—3月，全县查处违反中央八项规定精神问题12起！\n\n  “吃拿卡要”",
             "……  ——  ！？ ，。", "GDP增长5.2%，ｗｗｗ.ＥＸＡＭＰＬＥ.ｃｎ", "", "紀委監委",
             # whitespace of every kind, alone and between words
             " ", "\t\r\n　 \u00a0", "纪委\r\n\r\n监委\t \t通报",
             # other scripts: kana, hangul, Latin with accents, Cyrillic; CJK outside the units
             # (extension B) and inside them (extension A, compatibility ideographs)
             "カタカナとひらがな 한국어 café Москва 𠀀𠀁 㐀 豈更 纪委",
             # digits: plain, decimal, percent, full-width, superscript, circled, mixed with words
             "2026 5.2% ３０ ² ① 12起 v2.0 a-b_c x86 --- +#& ...",
             # a NUL inside the text, next to a word and alone
             "纪委\0监委 \0 通报"]
    has_unit = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[0-9a-z]")
    for backend in ("jieba", "rjieba"):
        for raw in texts:
            norm = text.normalize(raw)
            cut = text.segmenter(backend).cut_for_search(norm)
            expected = [w for w in cut if has_unit.search(w)]
            assert text.search_words(raw, backend) == expected
            assert text.search_words(norm, backend, normalized=True) == expected
        # Text said to be normalised is taken as it is: capitals are no unit.
        cut = text.segmenter(backend).cut_for_search("GDP增长ABC纪委x")
        assert text.search_words("GDP增长ABC纪委x", backend, normalized=True) == [
            w for w in cut if has_unit.search(w)]
    assert text.search_words("……  ——  ！？ ，。") == []
    assert text.search_words("\t\r\n　 ") == []
    # The Python segmenter takes a lone surrogate (a broken page); it is no unit either.
    cut = text.segmenter("jieba").cut_for_search("纪委\ud800监委")
    assert text.search_words("纪委\ud800监委", "jieba", normalized=True) == [
        w for w in cut if has_unit.search(w)]
