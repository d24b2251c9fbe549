"""ModelScorer: the trained model plus the office's schemes, as the pipeline's classify step.

The model gives calibrated probabilities, a level and an office; the schemes (classifiers/rules.py)
may force relevance, raise the level and route to an office. The explanation lists the rules that
fired (``规则:<name>``) and then the words that weighed most.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.model import Prediction, TextModel
from classifiers.rules import Hit, RuleSet
from pipeline import text
from pipeline.records import Article, ScoredArticle


#: The schemes look this far into a text (the model reads less: classifiers.model.MAX_CHARS).
RULE_CHARS = 50_000


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

    def judge_many(self, texts: list[str]) -> list[Judgement]:
        # Normalise once for both: the model reads the head of the text, the schemes read more.
        normalized = [text.normalize(t[:RULE_CHARS]) for t in texts]
        predictions = self.model.predict_normalized(normalized)
        hits = self.rules.match_many(normalized) if self.rules is not None else [[]] * len(texts)
        return list(map(self._combine, predictions, hits))

    def score(self, article: Article) -> ScoredArticle:
        [judgement] = self.judge_many([article.title + "\n" + article.content])
        return self.to_record(article, judgement)

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]:
        judgements = self.judge_many([a.title + "\n" + a.content for a in articles])
        return [self.to_record(a, j) for a, j in zip(articles, judgements)]

    def to_record(self, article: Article, j: Judgement) -> ScoredArticle:
        return ScoredArticle.from_article(
            article, relevance=j.relevance, sensitivity=j.sensitivity, level=j.level,
            department=j.department, matched_rules=j.matched_rules, model_version=self.version,
            explanation=j.explanation)

    @staticmethod
    def _combine(p: Prediction, hits: list[Hit]) -> Judgement:
        level, department = p.level, p.department
        for hit in hits:
            floor = hit.scheme.level or (1 if hit.scheme.force_relevant else 0)
            if floor > level:
                level = floor
                department = hit.scheme.department or department
        if level and not department:
            department = max(p.department_probs, key=p.department_probs.get)
        names = tuple(h.scheme.name for h in hits)
        return Judgement(
            relevance=round(p.relevant, 4), sensitivity=round(p.sensitive, 4), level=level,
            department=department if level else "", matched_rules=names,
            explanation=tuple(f"规则:{n}" for n in names) + p.top_terms)
