"""Items an office hands in (报送): what it found itself, outside the crawled sources.

The rules: every office that finds opinion touching the commission reports it to the coordinating
group's office. An item is a title, a link or a text (or both), the source it was found in (a
name as the office says it: 某某微信群, 群众来电) and the office, with an optional proposed level.
:func:`item_article` turns it into the article the classifier scores, so that it enters the same
queue as everything crawled (:meth:`alerting.intake.Intake.hand_in`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from alerting.petitions import PETITION_OFFICE
from alerting.routing import Proposal
from pipeline.records import FILE_URN, Article

__all__ = ["LEVEL_WORDS", "item_article", "level_of", "petition_article", "petition_proposal"]

#: the levels an office may propose, in the rules' words
LEVEL_WORDS = {"一般": 1, "较大": 2, "重大": 3}


def level_of(word: str | None) -> int | None:
    """The level of 一般/较大/重大 (None for none); ValueError naming the words otherwise."""
    if word is None or word == "":
        return None
    if word not in LEVEL_WORDS:
        raise ValueError(f"level {word!r} is not one of {'、'.join(LEVEL_WORDS)}")
    return LEVEL_WORDS[word]


def item_article(title: str, source: str, at: datetime, link: str | None = None, text: str = "") -> Article:
    """The article of a handed-in item, found at ``at``. Without a link its address is a
    ``urn:yuqing:`` name made from the item, so the same item handed in twice is one article.
    ValueError, saying which, for an empty title or source, for neither link nor text, or for a
    link that is not an http(s) address."""
    title, source, text = title.strip(), source.strip(), text.strip()
    if not title:
        raise ValueError("title: empty; say in a line what the item is about")
    if not source:
        raise ValueError("source: empty; name where it was found (a website, a WeChat group, 群众来电)")
    if not link and not text:
        raise ValueError("give --link URL or --text TEXT (or both): the item itself")
    url = link.strip() if link else FILE_URN + "handin-" + hashlib.sha1(
        f"{source}\n{title}\n{text}".encode("utf-8")).hexdigest()[:16]
    return Article.create(source_id=source, url=url, title=title, content=text or title, fetched=at)


def petition_article(channel: str, summary: str, received: datetime, title: str = "") -> Article:
    """The article of a petition item handed in by 信访室 (no alert yet): titled by its channel and
    ``title`` (default: the start of the summary), its source the channel (信访来电 ...)."""
    head = (title or summary.strip().splitlines()[0][:40] if summary.strip() else title).strip()
    return item_article(f"{channel}：{head}", f"信访{channel}", received, text=summary)


def petition_proposal(channel: str, level_word: str | None) -> Proposal:
    """信访室's proposal for a petition it hands in: the level it names, at least 一般 (a petition
    concerns the commission whatever the model makes of its words), the channel as the reason."""
    return Proposal(PETITION_OFFICE, level_of(level_word) or 1, f"信访{channel}")
