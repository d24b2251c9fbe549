"""The fast story functions against plain definitions of what they compute, kept here.

Stored fingerprints must stay comparable with new ones and names must read the same, so the
faster code (byte-lane votes, patterns written out by first character, comparisons instead of a
regex) has to give identical values: over every text of the training corpus and over hard cases.
The definitions below are written for reading, not speed.
"""

from __future__ import annotations

import re

import pytest

from classifiers.corpus import load_corpus
from classifiers.identity import (ANCHOR, COMPOUND_SURNAME, NOT_A_NAME, NOT_IN_NAME, SURNAME, TITLES, names,
                                  template_free)
from classifiers.stories import fingerprint, simhash
from classifiers.testing import COMPLAINTS, plea_post, weibo_post
from pipeline.text import normalize

MASK = (1 << 64) - 1


def plain_simhash(text: str) -> int:
    """Scheme 2: 3-grams of the letters and digits (code point + 1, a short text padded with 0),
    each packed base 0x110001, mixed by SplitMix64's finaliser, voting on each of the 64 bits."""
    chars = [ord(c) + 1 for c in text if c.isalnum()]
    if not chars:
        return 0
    chars += [0] * (3 - len(chars))
    votes = [0] * 64
    for i in range(len(chars) - 2):
        z = ((chars[i] * 0x110001 + chars[i + 1]) * 0x110001 + chars[i + 2] + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        for bit in range(64):
            votes[bit] += 1 if z >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if votes[bit] > 0)


# The template's patterns as first written: the openings grouped.
PLEA = re.compile(
    r"(?:(?:跪求|恳求|恳请|拜托|麻烦|希望|请|求)(?:各位|大家|网友|好心人)?(?:帮忙|帮我|帮帮忙|帮)?"
    r"(?:扩散|转发|转|顶|关注|曝光|支持|评论|点赞|上热搜|热搜)+|扩散周知|转发扩散|帮忙转发|大家帮帮忙)"
    r"[，,、！!。~～\s]*")
BOILERPLATE = re.compile(
    r"以真实姓名|愿(?:意)?承担(?:一切|相应|全部)?(?:的)?法律责任|(?:所)?反映(?:的)?(?:问题|情况|内容)(?:均|全部)?属实|"
    r"还(?:老百姓|群众|我们|我|百姓|人民)(?:一个)?(?:公道|清白|说法)|(?:恳请|请求|希望|强烈要求)(?:上级|有关|相关|各级)?"
    r"(?:部门|领导|纪委|纪检|监委|政府)[^。！？!?\n]{0,12}(?:彻查|严查|查处|核查|调查|重视|处理|关注)")
HASHTAG = re.compile(r"#[^#\n]{1,40}#")
MENTION = re.compile(r"[@＠][\w\-·]{1,30}")
SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
EDGES = " \t\u3000\n。！？!?；;，,、：:"


def plain_template_free(text: str) -> str:
    """Hashtags, mentions and pleas replaced by a space; then every sentence kept unless it is
    empty, repeats an earlier one, or holds the start of a template phrase."""
    text = PLEA.sub(" ", MENTION.sub(" ", HASHTAG.sub(" ", text)))
    template = [m.start() for m in BOILERPLATE.finditer(text)]
    kept, seen = [], set()
    for m in SENTENCE.finditer(text):
        core = m.group(0).strip(EDGES)
        if core and core not in seen and not any(m.start() <= at < m.end() for at in template):
            seen.add(core)
            kept.append(m.group(0))
    return "".join(kept)


TWO_HAN = re.compile("[\u4e00-\u9fff]{2}")


def plain_names(text: str) -> frozenset[str]:
    """At each anchor of identity's pattern: the surname before 某, the name after a title, the two
    characters before a place word (each with its conditions, as the module docstring gives them)."""
    found = set()
    for m in ANCHOR.finditer(text):
        start, end, word = m.start(), m.end(), m.group(0)
        if word == "某":
            if text[start - 2:start] in COMPOUND_SURNAME:
                found.add(text[start - 2:end])
            elif start and text[start - 1] in SURNAME:
                found.add(text[start - 1:end])
        elif word in TITLES:
            after = (3 if text[end:end + 2] in COMPOUND_SURNAME
                     else 2 if text[end:end + 1] in SURNAME else 0)
            name = text[end:end + after]
            if after and TWO_HAN.fullmatch(name[-2:]) and not name.endswith("某"):
                found.add(name)
        else:
            prefix = text[start - 2:start] if start >= 2 else ""
            if (TWO_HAN.fullmatch(prefix) and text[end:end + 1] != "长" and prefix not in NOT_A_NAME
                    and not NOT_IN_NAME.intersection(prefix)):
                found.add(prefix + word)
    return frozenset(found)


HARD = ["", "纪", "纪委", "a", "ab", "！！！", "。，、；：？！…—·《》「」", "   \n\t\u3000 ", "_", "#会昌#", "@", "＠纪委",
        "某", "张某", "局长", "副局长朱", "村", "周田镇", "县乡镇村", "我们村里", "今天县纪委", "村长",
        "清河縣紀委監委通報了三起違反中央八項規定精神的典型問題。縣水利局幹部王某某違規接受宴請。",
        "ＡＢＣ１２３ 𠀀𠀁 emoji 🙂 under_score", "求扩散！求转发！", "请大家帮忙转发、扩散周知", "求求求扩散",
        "本人以真实姓名实名举报，愿承担一切法律责任。所反映问题均属实。恳请上级纪委彻查！还老百姓一个公道！",
        "转发：" + weibo_post(*COMPLAINTS[0]), plea_post(*COMPLAINTS[1]),
        "同一句话。同一句话。同一句话！", "。。。\n\n\n",
        ("县纪委监委通报：城关镇党委委员李某某公车私用，受到党内警告处分。" * 400)
        + "恳请有关部门尽快彻查处理此事" * 50]


def texts() -> list[str]:
    return [normalize(t) for t in HARD] + [normalize(e.title + "\n" + e.text) for e in load_corpus()]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return texts()


def test_the_cases_are_hard(corpus):
    assert len(corpus) > 2000
    assert sum(template_free(t) != t for t in corpus) > 100  # the template is there to remove
    assert sum(bool(names(t)) for t in corpus) > 1000


def test_simhash_is_its_plain_definition(corpus):
    assert [simhash(t, normalized=True) for t in corpus] == [plain_simhash(t) for t in corpus]


def test_template_free_is_its_plain_definition(corpus):
    assert [template_free(t) for t in corpus] == [plain_template_free(t) for t in corpus]


def test_names_are_their_plain_definition(corpus):
    assert [names(t) for t in corpus] == [plain_names(t) for t in corpus]


def test_fingerprints_are_the_plain_simhash_of_the_plain_template_free_text(corpus):
    assert [fingerprint(t, normalized=True) for t in corpus[::5]] == [
        plain_simhash(plain_template_free(t)) for t in corpus[::5]]


def test_every_code_point_is_a_letter_or_not_as_isalnum_says():
    from classifiers.stories import shingle_hashes

    # a block's characters give one shingle per letter or digit less two (one for one or two)
    for start in range(0, 0x110000, 2048):
        block = "".join(chr(c) for c in range(start, start + 2048) if not 0xD800 <= c < 0xE000)
        letters = sum(c.isalnum() for c in block)
        assert len(shingle_hashes(block, normalized=True)) == (max(letters - 2, 1) if letters else 0), hex(start)
