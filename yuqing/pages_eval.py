"""Judge real saved pages with the model, against labels we gave them by hand (``yuqing model
eval --pages``): the crawler's extraction and the classifier together, so it lives in the
application, above both.

The pages (e.g. shared/realworld/pages) are third-party material read at run time, never copied;
the labels (``classifiers/data/realworld_labels.jsonl``) are ours: file name, the level and office
we judge right, and why. Pages labelled ``null`` are ambiguous and not scored. Each page goes
through the same decoding and extraction as a crawled page, so this measures the whole path from
HTML to judgement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from classifiers.scorer import ModelScorer
from crawlers.extract import extract_article
from crawlers.normalize.encoding import decode_html


@dataclass(frozen=True)
class PageResult:
    file: str
    title: str
    want_level: int
    want_department: str
    level: int
    department: str
    why: str


def default_labels() -> Path:
    return Path(str(resources.files("classifiers") / "data" / "realworld_labels.jsonl"))


def judge_pages(scorer: ModelScorer, pages: Path, labels: Path | None = None) -> list[PageResult]:
    results = []
    for line in (labels or default_labels()).read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        if label["level"] is None:
            continue
        html, _ = decode_html((pages / label["file"]).read_bytes())
        page = extract_article(html, f"file://{pages / label['file']}")
        [j] = scorer.judge_many([f"{page.title}\n{page.content}"])
        results.append(PageResult(label["file"], page.title, label["level"], label["department"],
                                  j.level, j.department, "、".join(j.explanation[:5])))
    return results


def summary(results: list[PageResult]) -> dict:
    relevant = [r for r in results if r.want_level > 0]
    flagged = [r for r in results if r.level > 0]
    hits = [r for r in relevant if r.level > 0]
    warn_true = [r for r in results if r.want_level >= 2]
    return {
        "pages": len(results),
        "relevance_precision": round(len(hits) / len(flagged), 3) if flagged else None,
        "relevance_recall": round(len(hits) / len(relevant), 3) if relevant else None,
        "level>=2_recall": round(sum(r.level >= 2 for r in warn_true) / len(warn_true), 3)
        if warn_true else None,
        "department_accuracy": round(sum(r.department == r.want_department for r in hits) / len(hits), 3)
        if hits else None,
        "exact_level": round(sum(r.level == r.want_level for r in results) / len(results), 3),
    }
