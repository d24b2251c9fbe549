"""Measure feed handling on saved real feeds: ``yuqing eval feeds DIR``.

``DIR/expected.jsonl`` has one line per feed file: ``file``, ``items`` (how many entries),
``first_title``, ``first_link`` and ``first_published`` (as the feed writes it, "" when none).
Each feed is parsed as the poller parses it (:func:`crawlers.feeds.parse_feed`) and scored on
four checks: item count, first title, first link, first date to the minute. A feed with zero
expected items also checks that the poller would report it (an empty feed is a failure, not
"no news").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from crawlers.feeds import parse_feed
from pipeline.errors import ConfigError

__all__ = ["FeedScore", "FeedReport", "evaluate_feeds", "CHECKS"]

CHECKS = ("items", "title", "link", "published")


@dataclass
class FeedScore:
    """One feed: which checks passed, and what was found where a check failed."""

    file: str
    passed: dict[str, bool]
    found: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.passed.values())


@dataclass
class FeedReport:
    scores: list[FeedScore]

    def rate(self, check: str) -> float:
        relevant = [s for s in self.scores if check in s.passed]
        return sum(s.passed[check] for s in relevant) / len(relevant) if relevant else 1.0

    def lines(self) -> list[str]:
        out = [f"{'FILE':<12} " + " ".join(f"{c:<10}" for c in CHECKS) + " FOUND (where wrong)"]
        for s in self.scores:
            marks = " ".join(f"{('ok' if s.passed[c] else 'WRONG') if c in s.passed else '-':<10}"
                             for c in CHECKS)
            wrong = "; ".join(f"{k}={v}" for k, v in s.found.items() if not s.passed.get(k, True))
            out.append(f"{s.file:<12} {marks} {wrong}")
        out.append("overall: " + ", ".join(f"{c} {self.rate(c):.0%}" for c in CHECKS) +
                   f" over {len(self.scores)} feeds")
        return out


def _moment(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    a, b = a.astimezone(timezone.utc), b.astimezone(timezone.utc)
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def evaluate_feeds(folder: str | Path) -> FeedReport:
    """Score every feed listed in ``folder/expected.jsonl``; ConfigError for a bad folder/line."""
    folder = Path(folder)
    expected_file = folder / "expected.jsonl"
    if not expected_file.exists():
        raise ConfigError(f"{expected_file}: no such file; DIR must hold expected.jsonl and the feeds")
    scores = []
    for number, line in enumerate(expected_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            want = json.loads(line)
            body = (folder / want["file"]).read_bytes()
        except (ValueError, KeyError, OSError) as exc:
            raise ConfigError(f"{expected_file}:{number}: {type(exc).__name__}: {exc}") from None
        parsed = parse_feed(body, f"file:///{want['file']}")
        first = parsed.entries[0] if parsed.entries else None
        passed = {"items": len(parsed.entries) == want["items"]}
        found = {"items": str(len(parsed.entries))}
        if want["items"]:
            passed["title"] = bool(first) and first.title == want["first_title"].strip()
            passed["link"] = bool(first) and first.link == want["first_link"]
            passed["published"] = bool(first) and _same_minute(first.published,
                                                               _moment(want["first_published"]))
            if first:
                found.update(title=first.title[:40], link=first.link,
                             published=first.published.isoformat() if first.published else "none")
        scores.append(FeedScore(want["file"], passed, found))
    return FeedReport(scores)
