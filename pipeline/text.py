"""Chinese text helpers shared by every stage: script normalisation, tokens, hashes, canonical URLs.

Downstream stages (search, classification, duplicate detection) work on *normalised* text:
traditional characters converted to simplified with OpenCC, full-width ASCII folded, lower case.
The original text is always kept on the record; normalisation is for matching only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from functools import lru_cache
from itertools import compress
from typing import Callable, Literal, NamedTuple
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_CJK = "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in _CJK_RANGES)
_CJK_CHAR = re.compile(f"[{_CJK}]")
# One search unit: a single CJK character, or a run of letters/digits (an ASCII word, a number).
_UNIT = re.compile(f"[{_CJK}]|[0-9a-z]+(?:[._-][0-9a-z]+)*")

_opencc_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # deferred: its tables load at import; commands that never touch text stay fast

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified (OpenCC ``t2s``); other text is unchanged."""
    if not text:
        return text
    converter = _t2s()
    with _opencc_lock:  # the binding is not documented as thread-safe
        return converter.convert(text)


# Full-width letters and digits (ＡＢＣ１２３) to ASCII: the part of NFKC that matching needs
# (punctuation is dropped by every consumer anyway). Checked with a regex first because almost
# no page has them, and every article is normalised for search and classification.
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)}


def normalize(text: str) -> str:
    """Text for matching: full-width letters and digits folded, simplified script, lower case."""
    text = text or ""
    if _WIDE.search(text):
        text = text.translate(_WIDTH)
    return to_simplified(text).lower()


def detect_script(text: str) -> str:
    """``traditional`` when converting to simplified changes a noticeable share of the CJK
    characters, ``simplified`` when there are CJK characters and few change, ``none`` otherwise.

    A share rather than "any change" because simplified pages quote the odd traditional character
    (a name, a shop sign) and traditional pages contain many characters both scripts share.
    """
    sample = text[:4000]
    cjk = _CJK_CHAR.findall(sample)
    if not cjk:
        return "none"
    original = "".join(cjk)
    converted = to_simplified(original)
    changed = sum(1 for a, b in zip(original, converted) if a != b)
    return "traditional" if changed / len(cjk) >= 0.03 and changed >= 2 else "simplified"


def search_units(text: str, normalized: bool = False) -> list[str]:
    """Split normalised text into single CJK characters and ASCII words (``normalized``: the
    text already went through :func:`normalize`).

    Searching for a phrase of these units is a substring search that never depends on how a word
    segmenter happened to cut the text (jieba cuts 会昌县纪委监委 so that 纪委 is a word, but it
    would not find 委监 or a one-character query).
    """
    return _UNIT.findall(text if normalized else normalize(text))


Backend = Literal["jieba", "rjieba"]


class Segmenter(NamedTuple):
    """Word segmentation of one backend: ``cut`` (for features) and ``cut_for_search``."""

    cut: Callable[[str], list[str]]
    cut_for_search: Callable[[str], list[str]]


def dictionary() -> list[tuple[str, int, str]]:
    """The discipline-inspection words (pipeline/dicts/jijian.txt) as (word, frequency, tag).

    Entries stay short on purpose: cut_for_search re-emits only the 2- and 3-character dictionary
    words inside a long word, so an entry such as 中央八项规定精神 would hide 八项规定 from search.
    """
    raw = (resources.files("pipeline") / "dicts" / "jijian.txt").read_text(encoding="utf-8")
    entries = []
    for line in raw.splitlines():
        parts = line.split()
        if parts:
            entries.append((parts[0], int(parts[1]) if len(parts) > 1 else 1,
                            parts[2] if len(parts) > 2 else ""))
    return entries


def default_backend() -> Backend:
    """``rjieba`` (a Rust port of jieba, about 30 times faster) when installed, else ``jieba``."""
    return "rjieba" if importlib.util.find_spec("rjieba") else "jieba"


_jieba_lock = threading.Lock()


@lru_cache(maxsize=2)
def segmenter(backend: Backend) -> Segmenter:
    """The backend with the dictionary loaded (once per process)."""
    if backend == "rjieba":
        # deferred: each segmenter loads a dictionary; a process imports only the one it uses
        import rjieba

        for word, freq, tag in dictionary():
            rjieba.add_word(word, freq, tag or None)
        return Segmenter(rjieba.cut, rjieba.cut_for_search)
    if backend == "jieba":
        # deferred: each segmenter loads a dictionary; a process imports only the one it uses
        import jieba

        jieba.setLogLevel(60)  # its start-up chatter goes to stderr otherwise
        tokenizer = jieba.Tokenizer()
        for word, freq, tag in dictionary():
            tokenizer.add_word(word, freq, tag or None)

        def locked(fn):
            def call(s: str) -> list[str]:
                with _jieba_lock:  # jieba's lazy initialisation is not thread-safe
                    return fn(s)
            return call

        return Segmenter(locked(tokenizer.lcut), locked(tokenizer.lcut_for_search))
    raise ValueError(f"unknown segmenter {backend!r}; use 'jieba' or 'rjieba'")


def search_words(text: str, backend: Backend | None = None, normalized: bool = False) -> list[str]:
    """``cut_for_search`` words of the normalised text, without punctuation and spaces
    (``normalized``: the text already went through :func:`normalize`).

    ``cut_for_search`` rather than ``cut`` because it also emits the shorter words inside long
    ones (会昌县 gives 会昌 and 会昌县), so a query for the short word finds the long one.
    """
    norm = text if normalized else normalize(text)
    words = segmenter(backend or default_backend()).cut_for_search(norm)
    return list(compress(words, _have_units(words)))


@lru_cache(maxsize=1)
def _unit_chars():
    """Code point → whether it can be (part of) a search unit: a word holds a unit exactly when
    it holds one of these."""
    import numpy as np  # deferred: commands that never index text start without it

    table = np.zeros(0x110000, dtype=bool)
    for low, high in _CJK_RANGES + ((ord("0"), ord("9")), (ord("a"), ord("z"))):
        table[low:high + 1] = True
    return np, table


def _have_units(words: list[str]) -> list[bool]:
    """Whether each word holds a search unit.

    The index step asks this for every word of every article (about a thousand an article),
    so it is read off one array of the words' code points, joined by NUL, rather than asked
    word by word: a call per word, even to a memo, cost about half as much as the segmentation.
    """
    np, unit_char = _unit_chars()
    joined = "\0".join(words) + "\0"
    # surrogatepass: a lone surrogate (a broken page read by the Python segmenter) is no unit.
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.flatnonzero(codes == 0)
    if len(ends) != len(words):  # some word holds a NUL of its own: ask word by word
        return [_UNIT.search(w) is not None for w in words]
    # Each word with the NUL after it: never empty, so reduceat reads every word's own span.
    starts = np.empty(len(ends), dtype=np.intp)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    return np.logical_or.reduceat(unit_char[codes], starts).tolist()


def content_hash(title: str, content: str) -> str:
    """Stable id of an article's text: sha256 over the normalised title and body.

    Whitespace is collapsed first so that a re-fetch with different line breaks is the same text.
    """
    canon = " ".join(normalize(title).split()) + "\n" + " ".join(normalize(content).split())
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


# Query parameters that track the visitor rather than name the page.
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|share_token|share_source|scene|srcid|isappinstalled|wfr|vd_source|"
    r"fbclid|gclid|yclid|mc_cid|mc_eid|_hsenc|_hsmi|ref|ref_src|timestamp|t)$",
    re.IGNORECASE,
)


def canonical_url(url: str) -> str:
    """The URL that names the page: scheme and host lower-cased, default port, fragment and
    tracking parameters dropped, remaining parameters sorted.

    Reposts of one page with different share parameters then key to the same partition and id.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def url_key(url: str) -> bytes:
    """Partition key of a story: the first 16 bytes of sha256 of the canonical URL, hex."""
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:32].encode("ascii")
