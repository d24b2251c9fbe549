"""Turn the bytes of a fetched page into text without mojibake.

Chinese sites declare their encoding badly: ``gb2312`` on pages full of GBK-only characters,
``utf-8`` in a template on pages a GBK editor wrote, ``gb2312`` on pages a browser re-saved as UTF-8.
So a declaration is a hint that must survive a strict decode, never an order.

Order of evidence (first that holds wins):

    override (operator, per source) > byte-order mark > HTTP charset > <meta>/<?xml?> charset > sniffing

Every name in the GB family is read as GB18030 (a superset of GB2312 and GBK), Big5 as Big5-HKSCS
(then CP950, Microsoft's variant). UTF-8 with a few invalid sequences (a CMS that cuts text by
bytes leaves half a character) is still UTF-8: it is read so, the bad bytes replaced, and
:attr:`Decoded.lossy` says so (see :data:`_UTF8_VALID_PER_INVALID` for the bound). When nothing
decodes strictly the text is decoded with
replacement characters and :attr:`Decoded.lossy` says so; :func:`decode_html` never raises.

Text that went wrong anyway (a feed parser's own guess, a wrong override) is caught after
decoding by :func:`garbled`: replacement characters, or mojibake that reads as Chinese once the
wrong decoding is undone. The crawler reports such an article as a problem of its source and
does not publish it.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

__all__ = ["Decoded", "decode_html", "decode_html_detail", "canonical_encoding", "garbled"]

log = logging.getLogger(__name__)

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Declared names mapped to the codec that decodes what such pages really contain.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "gb_2312-80": "gb18030", "gb_2312": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030",
    "csgb2312": "gb18030", "ms936": "gb18030", "windows-936": "gb18030", "gb18030": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "big5hkscs": "big5hkscs", "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs", "csbig5": "big5hkscs", "cp950": "cp950", "ms950": "cp950",
    "utf8": "utf-8", "utf-8": "utf-8", "unicode-1-1-utf-8": "utf-8",
    # The WHATWG rule: latin-1 labels mean windows-1252.
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252",
}

_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)

# Enough characters to judge an encoding; scoring the whole of a 1 MB page buys nothing.
_SAMPLE_CHARS = 3000


@dataclass(frozen=True)
class Decoded:
    """The text of a page and how it was obtained.

    ``encoding`` is a Python codec name (``utf-8``, ``gb18030``, ``big5hkscs`` ...); ``source``
    is one of ``override``, ``bom``, ``http``, ``meta``, ``sniffed``; ``lossy`` is true when some
    bytes could not be decoded and were replaced by U+FFFD.
    """

    text: str
    encoding: str
    source: str
    lossy: bool = False


def canonical_encoding(name: str | None) -> str | None:
    """The codec to use for a declared encoding name, or None when Python does not know it."""
    if not name:
        return None
    key = name.strip().strip("\"'").lower().replace("_", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None,
                override: str | None = None, where: str = "") -> tuple[str, str]:
    """Decode a page: ``(text, codec name)``. Never raises; see :func:`decode_html_detail`
    (``where``, the URL or file, names the page in the warning about undecodable bytes)."""
    decoded = decode_html_detail(body, content_type, override, where)
    return decoded.text, decoded.encoding


def decode_html_detail(body: bytes, content_type: str | None = None,
                       override: str | None = None, where: str = "") -> Decoded:
    """Decode ``body`` following the order in the module docstring.

    ``content_type`` is the HTTP ``Content-Type`` header, ``override`` the source's configured
    encoding, ``where`` (a URL or file name) only names the page in the warning logged when the
    result is lossy. An override is obeyed even when the bytes disagree (the operator knows
    better than our guess), but its failures are replaced and reported, never raised.
    """
    if override:
        codec = canonical_encoding(override)
        if codec:
            return _decode_or_replace(body, codec, "override", where)
        log.warning("encoding_override_unknown: %s: %r is not an encoding; sniffing instead",
                    where or "page", override)
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decode_or_replace(body[len(bom):], codec, "bom", where)
    declared = [(_http_charset(content_type), "http"), (_meta_charset(body), "meta")]
    for codec, source in declared:
        if codec:
            text = _strict_declared(body, codec)
            if text is not None:
                return Decoded(text, codec, source)
            if codec == "utf-8":
                damaged = _damaged_utf8(body, source, where)
                if damaged is not None:
                    return damaged
    return _sniff(body, where)


def _http_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HTTP_CHARSET.search(content_type)
    return canonical_encoding(match.group(1)) if match else None


def _meta_charset(body: bytes) -> str | None:
    head = body[:8192]  # the HTML spec looks at the first 1024 bytes; real pages put it later
    match = _XML_DECL.search(head) or _META_CHARSET.search(head)
    return canonical_encoding(match.group(1).decode("ascii", "ignore")) if match else None


def _strict_declared(body: bytes, codec: str) -> str | None:
    """The text if ``codec`` is believable for ``body``, else None (try the next evidence).

    GB18030 and Big5 decode almost any byte string without error, so a strict decode alone does
    not catch a page re-saved as UTF-8 under a ``gb2312`` meta: valid multi-byte UTF-8 wins over
    a declared CJK legacy encoding (random GBK text is practically never valid UTF-8), and a
    legacy decode whose characters are mostly rare ones is rejected in favour of sniffing.
    """
    if codec not in ("utf-8", "utf-16", "utf-32") and _is_multibyte_utf8(body):
        return None
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if codec in _CJK_LEGACY and _commonness(text, codec) < 0.6:
        return None
    return text


# A character cut in two leaves one invalid sequence among valid UTF-8; GBK or Big5 text read as
# UTF-8 leaves more invalid sequences than valid characters (0.1 to 0.3 valid per invalid on the
# legacy pages of our fixtures and of the evaluation set). Ten valid per invalid is far from the
# one and within reach of any text cut once per summary or title.
_UTF8_VALID_PER_INVALID = 10


def _damaged_utf8(body: bytes, source: str, where: str) -> Decoded | None:
    """``body`` read as UTF-8 with U+FFFD for its invalid sequences, when they are few enough
    (:data:`_UTF8_VALID_PER_INVALID`) that the bytes are UTF-8 damaged, not another encoding;
    else None. Only called once a strict decode failed."""
    text = body.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")  # a real U+FFFD is valid
    valid = _non_ascii(text) - invalid
    if invalid <= 0 or valid < _UTF8_VALID_PER_INVALID * invalid:
        return None
    try:
        body.decode("utf-8")
        first = -1
    except UnicodeDecodeError as exc:
        first = exc.start
    log.warning("encoding_lossy: %s: %d byte sequence(s) invalid in utf-8 from %s (first at byte "
                "%d) replaced with U+FFFD; the rest is valid utf-8 and read as such (a site that "
                "cuts text inside a character does this)", where or "page", invalid, source, first)
    return Decoded(text, "utf-8", source, lossy=True)


def _is_multibyte_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_CJK_LEGACY = ("gb18030", "big5hkscs", "cp950")


def _commonness(text: str, codec: str) -> float:
    """Share of the non-ASCII characters that are common ones in ``codec``'s own table.

    GB2312 lists its 3,755 most frequent hanzi at lead bytes B0-D7 and punctuation at A1-A3; Big5
    its 5,401 frequent hanzi at A4-C6 and punctuation at A1-A3. Text in the right encoding scores
    above 0.9; the same bytes read in the wrong one scatter into kana, symbols and rare characters.
    """
    chars = [c for c in text[: _SAMPLE_CHARS * 4] if ord(c) > 0x7F][:_SAMPLE_CHARS]
    if not chars:
        return 1.0
    table = "gb2312" if codec == "gb18030" else "big5"
    good_leads = range(0xA1, 0xD8) if table == "gb2312" else range(0xA1, 0xC7)
    good = 0
    for char in chars:
        try:
            lead = char.encode(table)[0]
        except UnicodeEncodeError:
            continue
        if lead in good_leads and not (table == "gb2312" and 0xA4 <= lead <= 0xAF):
            good += 1
    return good / len(chars)


def _sniff(body: bytes, where: str) -> Decoded:
    """No usable declaration: UTF-8 if valid or nearly so, else the CJK legacy encoding whose
    reading looks most like real text, else charset-normalizer's guess, else GB18030 with
    replacement."""
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "sniffed")
    except UnicodeDecodeError:
        pass
    damaged = _damaged_utf8(body, "sniffed", where)
    if damaged is not None:
        return damaged
    best: tuple[float, str, str] | None = None
    for codec in _CJK_LEGACY:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _commonness(text, codec)
        if best is None or score > best[0]:
            best = (score, codec, text)
    if best is not None and best[0] >= 0.5:
        return Decoded(best[2], best[1], "sniffed")
    guess = _charset_normalizer_guess(body)
    if guess is not None:
        return Decoded(guess[0], guess[1], "sniffed")
    if best is not None:
        return Decoded(best[2], best[1], "sniffed")
    return _decode_or_replace(body, "gb18030", "sniffed", where)


def _charset_normalizer_guess(body: bytes) -> tuple[str, str] | None:
    match = from_bytes(body).best()
    if match is None or match.encoding is None:
        return None
    return str(match), match.encoding


def _decode_or_replace(body: bytes, codec: str, source: str, where: str) -> Decoded:
    try:
        return Decoded(body.decode(codec), codec, source)
    except UnicodeDecodeError as exc:
        log.warning("encoding_lossy: %s: bytes invalid in %s from %s (first at byte %d); "
                    "replaced with U+FFFD. Set the source's encoding if this page is readable "
                    "in a browser.", where or "page", codec, source, exc.start)
        return Decoded(body.decode(codec, errors="replace"), codec, source, lossy=True)


# (how the text was wrongly decoded, what the bytes really were): the mix-ups Chinese sites and
# feed parsers make. Undoing one turns mojibake back into ordinary Chinese. iso-8859-2 is
# feedparser's last fallback, taken when windows-1252 fails on one of the five bytes it leaves
# undefined (UTF-8 Chinese holds them often).
_MISREADINGS = (("cp1252", "utf-8"), ("cp1252", "gb18030"), ("cp1252", "big5hkscs"),
                ("iso8859-2", "utf-8"), ("gb18030", "utf-8"), ("big5hkscs", "utf-8"))
_SINGLE_BYTE = ("cp1252", "iso8859-2")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _as_single_byte(text: str, codec: str) -> bytes:
    """The bytes ``text`` came from if it was decoded with the single-byte ``codec``. Bytes
    0x80-0x9F may have become windows-1252's characters (HTML and feed parsers remap those
    control characters so) or, where windows-1252 leaves them undefined, Latin-1's control
    characters (as lenient decoders do) or U+FFFD."""
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        pass  # one by one, then
    out = bytearray()
    for char in text:
        if char == "\ufffd":  # a byte the wrong decoder could not map: unknown, keep the place
            out += b"?"
            continue
        try:
            out += char.encode(codec)
        except UnicodeEncodeError:
            try:
                out += char.encode("cp1252")
            except UnicodeEncodeError:
                out += char.encode("latin-1")  # raises beyond U+00FF: not this mix-up
    return bytes(out)


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def garbled(text: str) -> str | None:
    """Why ``text`` cannot be what a page said (a short reason naming the encodings), or None.

    Judged on its first few thousand characters: more than a few in a hundred of its non-ASCII
    ones are U+FFFD replacement characters, or undoing one wrong decoding of
    :data:`_MISREADINGS` turns it into Chinese made mostly of common characters (which text in a
    Latin script or in correctly decoded Chinese practically never does). Runs on every article
    the crawler makes, so the work is in C (encode, decode, count) wherever it can be.
    """
    sample = text[:_SAMPLE_CHARS]
    foreign = _non_ascii(sample)
    if foreign < 4:
        return None
    replaced = sample.count("\ufffd")
    if replaced >= 3 and replaced / foreign > 0.02:
        return f"{replaced} characters could not be decoded (U+FFFD)"
    for wrong, right in _MISREADINGS:
        try:
            raw = _as_single_byte(sample, wrong) if wrong in _SINGLE_BYTE else sample.encode(wrong)
        except UnicodeError:
            continue
        # leniently: a lenient first decoder already replaced bytes of the original (each
        # unknown byte may cost the character around it two replacements more here)
        fixed = raw.decode(right, "replace")
        if fixed == sample:
            continue
        wide = _non_ascii(fixed)
        if fixed.count("\ufffd") > max(3, 0.1 * wide) + 2 * replaced:
            continue
        han = len(_HAN.findall(fixed))
        if han >= 4 and han >= 0.5 * wide and (right == "utf-8" or _commonness(fixed, right) >= 0.6):
            return f"mojibake: {right} text decoded as {wrong}"
    return None
