"""Rising terms (苗头性、倾向性): what ranks high, what is never a term, and the arithmetic's edges."""

from __future__ import annotations

import pytest

from alerting.briefing.trends import rising_terms


def docs(n: int, *terms: str) -> list[list[str]]:
    return [list(terms) for _ in range(n)]


def terms(trends) -> list[str]:
    return [t.term for t in trends]


def test_a_new_term_in_five_documents_beats_a_steady_common_term():
    current = docs(50, "会昌县", "纪委监委") + docs(5, "顶包") + docs(10, "会昌县")
    previous = docs(50, "会昌县", "纪委监委") + docs(15, "会昌县")
    ranked = rising_terms(current, previous)
    assert ranked[0].term == "顶包"
    assert (ranked[0].count, ranked[0].previous, ranked[0].is_new) == (5, 0, True)
    assert "纪委监委" not in terms(ranked) and "会昌县" not in terms(ranked)


def test_a_sharp_rise_with_volume_outranks_a_small_new_term():
    current = docs(40, "征地补偿") + docs(3, "路灯") + docs(57, "群众")
    previous = docs(5, "征地补偿") + docs(95, "群众")
    assert terms(rising_terms(current, previous))[:2] == ["征地补偿", "路灯"]


def test_stopwords_single_characters_numbers_and_generic_words_are_never_terms():
    junk = ["的", "年", "县", "2026", "3.5", "１２", "10%", "x", "问题", "情况", "--"]
    current = docs(20, *junk) + docs(6, "截留")
    assert terms(rising_terms(current, [])) == ["截留"]
    assert rising_terms(docs(20, "截留"), [], stopwords=["截留"]) == []


def test_counts_are_documents_not_occurrences():
    current = [["酒驾"] * 30] + docs(2, "酒驾")
    assert rising_terms(current, [], min_count=4) == []
    assert rising_terms(current, [], min_count=3)[0].count == 3


def test_a_term_keeping_its_share_of_a_busier_period_does_not_rise():
    current = docs(40, "低保") + docs(160, "群众")
    previous = docs(20, "低保") + docs(80, "群众")
    assert rising_terms(current, previous) == []


def test_falling_and_slightly_rising_terms_are_left_out():
    current = docs(11, "双开") + docs(2, "八项规定") + docs(87, "群众")
    previous = docs(10, "双开") + docs(30, "八项规定") + docs(60, "群众")
    assert rising_terms(current, previous, min_count=2) == []


def test_top_limits_and_ties_are_broken_by_count_then_term():
    current = docs(4, "乙词") + docs(4, "甲词") + docs(4, "丙词") + docs(9, "丁词")
    ranked = rising_terms(current, [], top=3)
    # equal counts give equal scores; code point order decides: 丙 < 乙 < 甲
    assert terms(ranked) == ["丁词", "丙词", "乙词"]
    assert terms(rising_terms(current, [], top=3)) == terms(ranked)
    assert rising_terms(current, [], top=0) == []


def test_nothing_current_gives_nothing_and_generators_are_accepted():
    assert rising_terms([], docs(10, "留置")) == []
    assert terms(rising_terms((d for d in docs(5, "留置")), iter([]))) == ["留置"]


def test_a_word_said_in_most_earlier_periods_is_everyday_even_when_it_rises_now():
    current = docs(6, "接访") + docs(6, "截留")
    previous = docs(6, "天气")                               # by chance, not said last time
    background = [docs(4, "接访"), docs(3, "接访"), [], docs(5, "接访")]
    assert set(terms(rising_terms(current, previous))) == {"截留", "接访"}
    assert terms(rising_terms(current, previous, background=background)) == ["截留"]
    assert set(terms(rising_terms(current, previous, background=background[:2]))) == {"截留", "接访"}  # too few


def test_the_county_own_names_and_administrative_words_are_never_terms():
    current = docs(6, "会昌县", "筠门岭镇", "接受", "严重", "中央", "截留")
    ranked = rising_terms(current, [], home_names=["会昌", "筠门岭"])
    assert terms(ranked) == ["截留"]


def test_each_term_carries_the_headlines_that_contain_it():
    current = [["截留", "补偿款"], ["路灯"], ["截留"], ["截留"]]
    titles = ["补偿款被截留", "路灯坏了", "又被截留", "补偿款被截留"]
    (top,) = rising_terms(current, [], min_count=3, titles=titles)
    assert (top.term, top.examples) == ("截留", ("补偿款被截留", "又被截留"))
    with pytest.raises(ValueError, match="one per document"):
        rising_terms(current, [], titles=titles[:2])
