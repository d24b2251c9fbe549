"""ModelScorer: the trained model plus the office's schemes, as the pipeline's classify step.

The model gives calibrated signals and the level they decide (classifiers.levels); the schemes
(classifiers/rules.py) may force relevance, raise the level and route to an office. The
explanation lists, in order: the decision (``定级:较大``) and the signal that decided it
(``依据:事件 0.87``), the schemes that fired (``规则:<name>``), the other signals that were read
(relevance, sensitivity, event, commission, genre, subject, cues), then the words that weighed
most. ``matched_rules`` names the schemes that fired.

Recency: an article whose page says it was published more than :data:`OLD_AFTER_DAYS` days before
it was fetched is an old matter, at most 一般 (the text-only ``judge_many`` knows no dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from classifiers.clean import READ_CHARS, prepare
from classifiers.model import Prediction, TextModel
from classifiers.rules import Hit, RuleSet
from pipeline.records import Article, ScoredArticle

__all__ = ["Judgement", "ModelScorer", "OLD_AFTER_DAYS", "RULE_CHARS", "LEVEL_NAMES"]

#: The schemes look this far into a text (the model reads less: classifiers.model.MAX_CHARS).
RULE_CHARS = READ_CHARS
#: Published this many days before it was fetched: an old matter (旧闻).
OLD_AFTER_DAYS = 365
LEVEL_NAMES = ("不相关", "一般", "较大", "重大")


@dataclass(frozen=True)
class Judgement:
    """What the scorer concluded about one text (the classify command prints these fields)."""

    relevance: float
    sensitivity: float
    level: int
    department: str
    matched_rules: tuple[str, ...]
    explanation: tuple[str, ...]


class ModelScorer:
    """``score(article)`` / ``judge_many(texts)``; see the module docstring.

    Thread-compatible: the model and rules are read-only after construction.
    """

    def __init__(self, model: TextModel, rules: RuleSet | None = None):
        self.model = model
        self.rules = rules
        self.version = model.version

    def judge_many(self, texts: list[str], old: list[bool] | None = None) -> list[Judgement]:
        # Clean and normalise once for both: the model reads the head of the text, the schemes
        # read more.
        normalized = [prepare(t) for t in texts]
        predictions = self.model.predict_normalized(normalized, old)
        hits = self.rules.match_many(normalized) if self.rules is not None else [[]] * len(texts)
        return list(map(self._combine, predictions, hits))

    def score(self, article: Article) -> ScoredArticle:
        return self.score_many([article])[0]

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]:
        judgements = self.judge_many([a.title + "\n" + a.content for a in articles],
                                     [_is_old(a) for a in articles])
        return [self.to_record(a, j) for a, j in zip(articles, judgements)]

    def to_record(self, article: Article, j: Judgement) -> ScoredArticle:
        return ScoredArticle.from_article(
            article, relevance=j.relevance, sensitivity=j.sensitivity, level=j.level,
            department=j.department, matched_rules=j.matched_rules, model_version=self.version,
            explanation=j.explanation)

    @staticmethod
    def _combine(p: Prediction, hits: list[Hit]) -> Judgement:
        level, department = p.level, p.department
        decided = p.reasons[:1]
        # A scheme never makes fiction or a template relevant: the genre outranks keywords.
        vetoed = bool(decided) and decided[0].startswith(("依据:体裁:小说影视", "依据:体裁:模板广告"))
        for hit in ([] if vetoed else hits):
            floor = hit.scheme.level or (1 if hit.scheme.force_relevant else 0)
            if floor > level:
                level = floor
                department = hit.scheme.department or department
                decided = (f"依据:规则:{hit.scheme.name}",)
        for hit in ([] if vetoed else hits):
            # A scheme that names an office routes the items whose level it accounts for.
            if hit.scheme.department and level and (hit.scheme.level or 1) >= level:
                department = hit.scheme.department
        if level and not department:
            department = max(p.department_probs, key=p.department_probs.get)
        names = tuple(h.scheme.name for h in hits)
        # The office the model chose is named among the signals; say so when a scheme changed it.
        return Judgement(
            relevance=round(p.relevant, 4), sensitivity=round(p.sensitive, 4), level=level,
            department=department if level else "", matched_rules=names,
            explanation=(f"定级:{LEVEL_NAMES[level]}",) + decided
            + tuple(f"规则:{n}" for n in names) + p.reasons[1:] + p.top_terms)


def _is_old(article: Article) -> bool:
    if article.published is None:
        return False
    return article.fetched - article.published > timedelta(days=OLD_AFTER_DAYS)
