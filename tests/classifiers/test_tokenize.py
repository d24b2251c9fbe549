"""Tokens: the domain dictionary, stopwords, and rjieba giving exactly jieba's tokens."""

from __future__ import annotations

from classifiers.corpus import load_corpus
from classifiers.tokenize import tokens


def test_domain_terms_are_single_words_and_function_words_are_dropped():
    words = tokens("会昌县纪委监委严肃查处吃拿卡要问题，对其采取留置措施并予以双开。")
    assert {"吃拿卡要", "留置", "双开", "纪委监委"} <= set(words)
    assert "的" not in words and "，" not in words


def test_traditional_text_gives_simplified_tokens():
    assert tokens("紀委監委通報", "jieba") == tokens("纪委监委通报", "jieba")


def test_withheld_names_leave_no_token():
    assert "某" not in tokens("张某某") and "某某" not in tokens("张某某")
    assert "县" in tokens("某县")


def test_rjieba_gives_the_same_tokens_as_jieba_on_the_whole_corpus():
    differing = [e.id for e in load_corpus()
                 if tokens(e.full_text, "jieba") != tokens(e.full_text, "rjieba")]
    assert differing == []
