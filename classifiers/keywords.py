"""KeywordScorer: a transparent term-weight scorer, the baseline before the trained model.

It reads the normalised text, adds up the weights of the discipline-inspection terms it finds and
turns the sums into scores with ``1 - exp(-sum)``. Look-alike phrases (双开门冰箱, 留置针) are
removed before counting. It is what the pipeline uses until a trained model is installed, and what
the trained model is measured against; its explanation is simply the terms that weighed most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline import text
from pipeline.records import Article, ScoredArticle

# Terms that make an article concern discipline-inspection work, with weights.
RELEVANCE_TERMS: dict[str, float] = {
    "纪委": 1.2, "监委": 1.0, "纪检": 1.2, "监察": 0.6, "中纪委": 1.2,
    "违纪": 1.0, "违法": 0.3, "腐败": 0.9, "反腐": 0.9, "受贿": 1.2, "行贿": 1.2, "贪污": 1.2,
    "挪用": 0.6, "八项规定": 1.2, "四风": 1.0, "形式主义": 0.8, "官僚主义": 0.8,
    "问责": 0.9, "巡察": 1.0, "巡视": 0.8, "审查调查": 1.2, "纪律审查": 1.2, "监察调查": 1.2,
    "双开": 1.2, "开除党籍": 1.2, "开除公职": 1.2, "留置": 1.0, "党纪": 1.0, "政务处分": 1.2,
    "警示教育": 0.8, "党风廉政": 1.0, "廉政": 0.6, "廉洁": 0.5, "主体责任": 0.4,
    "村干部": 0.6, "村支书": 0.6, "干部": 0.3, "局长": 0.3, "书记": 0.3, "公职人员": 0.6,
    "公车私用": 1.2, "吃拿卡要": 1.2, "违规吃喝": 1.2, "侵占": 0.5, "补偿款": 0.4,
    "举报": 0.5, "信访": 0.8, "落马": 1.2, "被查": 1.0, "不作为": 0.8, "推诿": 0.5,
}

# Terms of negative or critical opinion, accusation and incident.
SENSITIVITY_TERMS: dict[str, float] = {
    "严重违纪违法": 1.5, "违纪违法": 1.0, "接受纪律审查": 1.0, "落马": 1.2, "被查": 1.0,
    "开除党籍": 1.0, "双开": 1.0, "受贿": 1.0, "侵占": 0.8, "贪污": 1.0, "举报": 0.7,
    "实名举报": 1.2, "曝光": 0.8, "质疑": 0.5, "不作为": 0.8, "推诿": 0.6, "态度很差": 0.6,
    "公车私用": 1.0, "吃拿卡要": 1.0, "违规吃喝": 0.8, "求扩散": 1.2, "讨个说法": 0.8,
    "还我们一个公道": 0.8, "冲突": 0.8, "围堵": 1.0, "聚集": 0.6, "打击报复": 1.2,
}

# Spread and mass-incident signals that raise an item to 重大.
MAJOR_TERMS = ("求扩散", "热搜", "实名举报", "群体性", "围堵", "打击报复", "视频")

CASE_TERMS = ("审查调查", "纪律审查", "监察调查", "双开", "开除党籍", "开除公职", "留置",
              "被查", "落马", "移送检察机关", "党纪处分", "政务处分")
PETITION_TERMS = ("尊敬的领导", "反映", "举报", "恳请", "信访", "投诉", "楼主", "讨个说法")

# Phrases that contain a term but mean something else.
EXCLUSIONS = ("双开门", "留置针", "静脉留置", "巡回演出", "巡回赛")


@dataclass(frozen=True)
class KeywordScorer:
    """``score(article) -> ScoredArticle``: relevance, sensitivity, level, department, why."""

    version: str = "keywords-1"
    relevant_at: float = 0.5
    warn_at: float = 0.6

    def assess(self, raw: str) -> tuple[float, float, int, str, tuple[str, ...]]:
        """(relevance, sensitivity, level, department, terms that weighed most) of a text."""
        body = text.normalize(raw)
        for phrase in EXCLUSIONS:
            body = body.replace(phrase, " ")
        rel_terms = _found(body, RELEVANCE_TERMS)
        sens_terms = _found(body, SENSITIVITY_TERMS)
        relevance = _saturate(sum(RELEVANCE_TERMS[t] for t in rel_terms))
        sensitivity = _saturate(sum(SENSITIVITY_TERMS[t] for t in sens_terms))

        level, department = 0, ""
        if relevance >= self.relevant_at:
            level = 1
            if sensitivity >= self.warn_at:
                level = 3 if any(t in body for t in MAJOR_TERMS) and sensitivity >= 0.9 else 2
            if any(t in body for t in CASE_TERMS):
                department = "案管室"
            elif any(t in body for t in PETITION_TERMS):
                department = "信访室"
            else:
                department = "宣传部"
        weighed = sorted(
            set(rel_terms) | set(sens_terms),
            key=lambda t: -(RELEVANCE_TERMS.get(t, 0) + SENSITIVITY_TERMS.get(t, 0)),
        )
        return round(relevance, 4), round(sensitivity, 4), level, department, tuple(weighed[:8])

    def score(self, article: Article) -> ScoredArticle:
        relevance, sensitivity, level, department, why = self.assess(
            article.title + "\n" + article.content)
        return ScoredArticle.from_article(
            article, relevance=relevance, sensitivity=sensitivity, level=level,
            department=department, model_version=self.version, explanation=why)

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]:
        return [self.score(a) for a in articles]

    def judge(self, raw: str):
        """The evaluation's view of a text (classifiers.training.Output)."""
        # deferred: classifiers.training brings scikit-learn's training side (about 1.5 s to
        # import); the keyword scorer in the stream never needs it
        from classifiers.training import Output

        relevance, sensitivity, level, department, _ = self.assess(raw)
        return Output(relevance, sensitivity, level, department)


def _found(body: str, terms: dict[str, float]) -> list[str]:
    return [t for t in terms if t in body]


def _saturate(weight: float) -> float:
    return 1.0 - math.exp(-weight)
