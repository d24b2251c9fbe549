"""Score extraction against a folder of pages with expected values (``yuqing eval extract DIR``).

``DIR/expected.jsonl`` has one object per page (the format of ``shared/realworld/pages``):
``file``, ``title``, ``published`` (``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD`` or ``""``), ``body_start``,
optional ``category``, ``source_url``, ``original_encoding``. What is scored, for ours and for
trafilatura alone on the same decoded page (``bare_extraction`` with its default settings except
dates: :data:`BASELINE_DATE_PARAMS` asks it for the minute and an extensive search, without
which it returns only the day and the comparison on time would be unfair):

- title: equal to ``title`` after whitespace normalisation. ``title`` is the title *as the page
  shows it*: on a spam repost that includes the injected prefix; ``title_clean`` is not scored,
  because removing an advertiser's keyword is a job for the spam filter, not the extractor.
- time: equal to the minute, on a Beijing clock; only the day when ``published`` is a date; when
  the page shows no date (``""``) the right answer is no date.
- body: the extracted text, whitespace-normalised, starts with ``body_start`` (normalised alike).
- day (shown, not a target): the time right to the day, beside the minute, for a reader who
  wants to see how much of a miss on time is the day and how much the minute.

Pages listed with an ``original_encoding`` other than UTF-8 whose bytes sit in
``DIR/original_encoding/<stem>.<encoding>.html`` are scored a second time from those bytes,
decoded by :func:`crawlers.normalize.encoding.decode_html`, as extra rows named ``<file> (<enc>)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from crawlers.extract import extract_article
from crawlers.normalize.dates import SHANGHAI, parse_published_detail
from crawlers.normalize.encoding import decode_html_detail
from pipeline.errors import ConfigError

__all__ = ["PageScore", "Report", "evaluate_dir", "time_matches", "norm_ws", "FIELDS", "INFO_FIELDS",
           "BASELINE_DATE_PARAMS"]

FIELDS = ("title", "time", "body")
#: trafilatura asked for the minute (its default output is the day) and to search the whole page,
#: so that the comparison on time is fair.
BASELINE_DATE_PARAMS = {"outputformat": "%Y-%m-%d %H:%M", "extensive_search": True}
#: Shown beside the minute: the day alone.
INFO_FIELDS = ("day",)
_WS = re.compile(r"[\s\u00a0\u3000]+")


def norm_ws(text: str | None) -> str:
    """Whitespace runs (including full-width) collapsed to one space, stripped."""
    return _WS.sub(" ", text or "").strip()


@dataclass
class PageScore:
    """One page's outcome for both extractors: ``ours``/``baseline`` map field -> hit."""

    file: str
    category: str
    ours: dict[str, bool]
    baseline: dict[str, bool]
    got: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"


@dataclass
class Report:
    """All pages; :meth:`totals` and :meth:`by_category` give shares of pages (0..1)."""

    pages: list[PageScore]

    def totals(self, rows: list[PageScore] | None = None) -> dict[str, dict[str, float]]:
        rows = self.pages if rows is None else rows
        n = len(rows) or 1
        return {who: {f: sum(getattr(p, who)[f] for p in rows) / n for f in FIELDS + INFO_FIELDS}
                for who in ("ours", "baseline")}

    def by_category(self) -> dict[str, dict[str, dict[str, float]]]:
        cats = sorted({p.category for p in self.pages})
        return {c: self.totals([p for p in self.pages if p.category == c]) for c in cats}

    def as_json(self) -> dict:
        return {"pages": [asdict(p) for p in self.pages], "totals": self.totals(),
                "by_category": self.by_category(), "count": len(self.pages)}


def time_matches(got: datetime | None, expected: str) -> bool:
    """``expected`` is ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD`` (compare the day) or ``""`` (no date)."""
    if not expected:
        return got is None
    if got is None:
        return False
    local = got.astimezone(SHANGHAI)
    if len(expected) <= 10:
        return local.strftime("%Y-%m-%d") == expected
    return local.strftime("%Y-%m-%d %H:%M") == expected


def _score(title: str, published: datetime | None, body: str, expected: dict) -> dict[str, bool]:
    return {
        "title": norm_ws(title) == norm_ws(expected.get("title")),
        "time": time_matches(published, expected.get("published") or ""),
        "day": time_matches(published, (expected.get("published") or "")[:10]),
        "body": bool(norm_ws(expected.get("body_start"))) and
        norm_ws(body).startswith(norm_ws(expected.get("body_start"))),
    }


def _baseline(html: str, url: str | None) -> tuple[str, datetime | None, str]:
    # deferred: trafilatura takes about 0.15 s to import, and only the comparison needs it
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True,
                                      date_extraction_params=BASELINE_DATE_PARAMS)
    if doc is None:
        return "", None, ""
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    parsed = parse_published_detail(data.get("date") or "")
    return data.get("title") or "", parsed.value if parsed else None, data.get("text") or ""


def load_expected(directory: Path) -> list[dict]:
    """The rows of ``expected.jsonl``; a bad line raises :class:`ConfigError` naming file:line."""
    path = directory / "expected.jsonl"
    if not path.is_file():
        raise ConfigError(f"{path}: not found; the folder must hold expected.jsonl and the pages")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict) or "file" not in row:
            raise ConfigError(f"{path}:{number}: expected an object with 'file', 'title', "
                              f"'published', 'body_start'")
        rows.append(row)
    return rows


def score_page(body: bytes, expected: dict, label: str, where: str) -> PageScore:
    """Decode ``body``, run both extractors, score them against ``expected``."""
    decoded = decode_html_detail(body, where=where)
    url = expected.get("source_url") or ""
    ours = extract_article(decoded.text, url)
    b_title, b_time, b_body = _baseline(decoded.text, url or None)
    got = {"title": ours.title, "time": ours.published.astimezone(SHANGHAI).isoformat()
           if ours.published else "", "body": ours.content[:40], "method": ours.method}
    return PageScore(file=label, category=expected.get("category", "-"),
                     ours=_score(ours.title, ours.published, ours.content, expected),
                     baseline=_score(b_title, b_time, b_body, expected), got=got,
                     encoding=decoded.encoding)


def evaluate_dir(directory: str | Path, on_page: Callable[[], None] | None = None) -> Report:
    """Score every page listed in ``directory/expected.jsonl`` (see module docstring);
    ``on_page`` is called after each listed page (a progress bar)."""
    directory = Path(directory)
    pages = []
    for row in load_expected(directory):
        path = directory / row["file"]
        if not path.is_file():
            raise ConfigError(f"{directory / 'expected.jsonl'}: {row['file']}: page not found")
        pages.append(score_page(path.read_bytes(), row, row["file"], str(path)))
        # "gb2312 (bytes in original_encoding/...)": the first word is the encoding.
        encoding = (row.get("original_encoding") or "utf-8").split()[0].lower()
        original = directory / "original_encoding" / f"{Path(row['file']).stem}.{encoding}.html"
        if encoding not in ("utf-8", "utf8") and original.is_file():
            pages.append(score_page(original.read_bytes(), row, f"{row['file']} ({encoding})",
                                    str(original)))
        if on_page is not None:
            on_page()
    return Report(pages)
