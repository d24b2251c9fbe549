"""Whether an item is the commission's own (属地): ``local`` when it names the county or one of its
towns, ``region`` when it names only the city or province above, ``elsewhere`` when it names
other places only, ``unknown`` when it names none (a post about 某镇纪委 may well be local).

An alert takes the most local of its articles: one article naming the county makes the story
local. Local items rank first in the queue; whether the others' 重大 and 可能影响全局 start the
clocks is ``jurisdiction.clocks_for`` (default: local only, the rest shown as 参考).
"""

from __future__ import annotations

from typing import Literal

from alerting.config import Jurisdiction
from classifiers.places import PROVINCES, places
from pipeline.text import normalize

__all__ = ["Locality", "locate", "more_local", "clocked", "LOCALITY_LABELS", "RANK"]

Locality = Literal["local", "unknown", "region", "elsewhere"]

LOCALITY_LABELS = {"local": "本地", "unknown": "未标明地点", "region": "本市/本省", "elsewhere": "外地"}
HEAD = 600  # characters of a text tagged for place names (the title, dateline and lead)

#: most local first: the queue's order and what a story keeps when its articles differ
RANK = {"local": 0, "unknown": 1, "region": 2, "elsewhere": 3}


def locate(text: str, jurisdiction: Jurisdiction) -> Locality:
    folded = normalize(text)
    if _names(folded, [], jurisdiction.local):  # most of a county's items: no tagging needed
        return "local"
    # where an item happened is said in its title and first lines (the dateline, the lead);
    # tagging only those keeps the cost flat for long texts
    found = places(folded[:HEAD], normalized=True)
    if _names(folded, found, jurisdiction.local):
        return "local"
    if _names(folded, found, jurisdiction.region):
        return "region"
    return "elsewhere" if found else "unknown"


def _names(folded: str, found: list[str], names: list[str]) -> bool:
    """Whether the text names one of ``names``: a province's short name only as a place the text
    names (浙江西部 does not name 江西), any other name wherever it is written."""
    for name in map(normalize, names):
        if name in PROVINCES:
            if any(place.startswith(name) for place in found):
                return True
        elif name in folded:
            return True
    return False


def more_local(a: str | None, b: str | None) -> str:
    a, b = a or "unknown", b or "unknown"
    return a if RANK[a] <= RANK[b] else b


def clocked(locality: str | None, jurisdiction: Jurisdiction) -> bool:
    """Whether an item of ``locality`` runs the upward-report clocks under ``jurisdiction``
    (an alert not located yet counts as ``unknown``: its clocks run)."""
    locality = locality or "unknown"
    if jurisdiction.clocks_for == "all":
        return True
    if jurisdiction.clocks_for == "region":
        return locality != "elsewhere"
    return locality in ("local", "unknown")
