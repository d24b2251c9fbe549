"""Test helpers that other packages' tests need too: scored articles in a few words."""

from __future__ import annotations

from datetime import datetime

from pipeline.records import SHANGHAI, Article, ScoredArticle

__all__ = ["scored", "NINE"]

#: the morning most alerting tests start at (a Friday, Beijing time)
NINE = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)


def scored(title: str, *, at: datetime, level: int = 3, story: str = "", source: str = "weibo-huichang",
           department: str = "宣传部", rules: tuple[str, ...] = (), text: str = "",
           url: str | None = None, spread: dict[str, int] | None = None) -> ScoredArticle:
    """A scored article as the classify step would publish it, fetched at ``at``."""
    article = Article.create(source_id=source, url=url or f"https://example.org/{abs(hash((title, source, text)))}",
                             title=title, content=text or f"{title}。网友转发并评论。", fetched=at,
                             spread=spread)
    return ScoredArticle.from_article(
        article, relevance=0.9 if level else 0.1, sensitivity=0.8 if level >= 2 else 0.2, level=level,
        department=department if level else "", matched_rules=rules, model_version="test",
        explanation=("举报", "干部"), story_id=story, first_source=source, repost_count=0)
