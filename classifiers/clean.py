"""Undo the damage mirror sites and portals do to a text before it is judged (清洗).

What is removed is what the real feed adds to a story without changing what it says, so a repost
of a story is judged as the story is:

- pinyin that mirror sites put after characters, ``紀(jì)委`` or ``纪jì委wěi``;
- runs of ``?`` and ``�`` left by a wrong decoding, and forum anti-scraping junk (runs of short
  ASCII fragments such as ``x5 m5 T* E6 Q``);
- Kangxi radicals and compatibility ideographs that stand in for ordinary characters;
- portal button text (``打开网易新闻 查看精彩图片``), source and editor lines, repost prefixes
  (``转发``, ``【转载】``) and the trailing list of related links (``相关阅读：…``).

:func:`clean` is applied before ``pipeline.text.normalize`` both in training and in scoring. It
never raises; text it does not recognise passes through unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline import text as _text

__all__ = ["READ_CHARS", "clean", "prepare"]

#: How much of a text is read at all (the model reads less: classifiers.model.MAX_CHARS).
READ_CHARS = 50_000

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# 問(wèn) and 問（wèn）: a parenthesised syllable right after a character.
_PINYIN_PAREN = re.compile(rf"(?<=[{_CJK}])[(（][a-zü{_TONED}]{{1,6}}[)）]")
# 纪jì委wěi: a syllable with a tone mark glued to a character (plain ASCII words are left alone).
_PINYIN_GLUED = re.compile(rf"(?<=[{_CJK}])[a-zü]{{0,4}}[{_TONED}][a-zü{_TONED}]{{0,4}}(?![a-z])")
_MOJIBAKE = re.compile(r"[?？\ufffd]{2,}|\ufffd")
# Four or more whitespace-separated fragments of one to three ASCII symbols, most of them not
# plain letters (short English words such as "and a" stay).
_JUNK = re.compile(r"(?:(?<=\s)|^)(?:[!-~]{1,3}(?:[ \t]+|$)){4,}", re.MULTILINE)
_WORDISH = re.compile(r"[A-Za-z]+")


def _junk(match: re.Match) -> str:
    parts = match.group(0).split()
    odd = sum(1 for p in parts if not _WORDISH.fullmatch(p))
    return " " if odd * 2 >= len(parts) else match.group(0)
_BUTTONS = re.compile(
    r"打开[^\s，。]{0,6}(?:新闻|APP|app|客户端)\s*查看(?:精彩)?(?:图片|原文|更多)|点击(?:查看)?大图|"
    r"扫一扫在手机(?:上)?(?:打开|阅读)当前页|【?字号[：:]?\s*大\s*中\s*小】?|【?打印(?:本页)?】?\s*【?关闭(?:窗口)?】?|"
    r"分享到[：:]?\s*(?:微信|微博|QQ空间)[^\n]{0,20}")
_CREDIT_LINE = re.compile(r"(?m)^[ \t　]*[（(【\[]?(?:责任编辑|编辑|来源|來源|本文来源|作者|記者|记者|审核|校对|"
                          r"发布时间|發布時間|时间|浏览|阅读)[：:][^\n]{0,40}$")
_REPOST = re.compile(r"^\s*(?:【\s*转载\s*】|【\s*转\s*】|\[\s*转\s*\]|转发[：:]?|转载[：:]?|轉發[：:]?|"
                     r"轉載[：:]?|转自[^\n：:]{0,20}[：:]|转[：:])\s*")
# A heading of its own: at the start of a line, followed by a colon or the end of the line.
_RELATED = re.compile(r"(?m)^[ \t　]*(?:相关阅读|相关新闻|延伸阅读|推荐阅读|相关推荐|热门推荐|猜你喜欢|"
                      r"相關閱讀|相關新聞|延伸閱讀|更多精彩|更多)[ \t　]*(?:[：:]|>>|$)")
#: Related links are cut only when they start after this share of the text (an article may name
#: "相关新闻" in its first lines without the rest being a link list).
_RELATED_FROM = 0.4


def _compatibility_table() -> dict[int, str]:
    table = {}
    for start, end in ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0xF900, 0xFAFF)):
        for code in range(start, end + 1):
            mapped = unicodedata.normalize("NFKC", chr(code))
            if mapped != chr(code) and len(mapped) == 1:
                table[code] = mapped
    return table


_COMPAT = _compatibility_table()
_COMPAT_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_COMPAT)) + "]")


def prepare(raw: str) -> str:
    """The first :data:`READ_CHARS` of ``raw``, cleaned and normalised: what every head, cue and
    scheme reads."""
    return _text.normalize(clean(raw[:READ_CHARS]))


# Each substitution below runs only where a quick test (a substring, or one character class)
# finds what it needs at all: most pages have none of this damage, and a pattern that starts
# with a lookbehind is tried at every position of the text.
_TONED_CHAR = re.compile(f"[{_TONED}]")
# What a match of _PINYIN_PAREN and of _JUNK must contain, found without their lookbehinds (which
# make a pattern be tried at every position): a parenthesised syllable; four short ASCII
# fragments with spaces or tabs between.
_PAREN_SYLLABLE = re.compile(rf"[(（][a-zü{_TONED}]{{1,6}}[)）]")
_FRAGMENTS = re.compile(r"[!-~][ \t]+[!-~]{1,3}[ \t]+[!-~]{1,3}[ \t]+[!-~]")
_MOJIBAKE_PAIRS = ("\ufffd", "??", "？？", "?？", "？?")
_BUTTON_WORDS = ("打开", "点击", "扫一扫", "字号", "打印", "分享到")


def clean(text: str) -> str:
    """``text`` without mirror-site damage and portal boilerplate (see the module docstring)."""
    if not text:
        return ""
    if _COMPAT_CHARS.search(text):
        text = text.translate(_COMPAT)
    if ("(" in text or "（" in text) and _PAREN_SYLLABLE.search(text):
        text = _PINYIN_PAREN.sub("", text)
    if _TONED_CHAR.search(text):
        text = _PINYIN_GLUED.sub("", text)
    if any(pair in text for pair in _MOJIBAKE_PAIRS):
        text = _MOJIBAKE.sub(" ", text)
    # Four fragments need at least three separating spaces or tabs.
    if text.count(" ") + text.count("\t") >= 3 and _FRAGMENTS.search(text):
        text = _JUNK.sub(_junk, text)
    if any(word in text for word in _BUTTON_WORDS):
        text = _BUTTONS.sub(" ", text)
    text = _CREDIT_LINE.sub("", text)
    text = _REPOST.sub("", text, count=1)
    cut = None
    for match in _RELATED.finditer(text):
        if match.start() >= _RELATED_FROM * len(text):
            cut = match.start()
            break
    if cut is not None:
        text = text[:cut]
    return text
