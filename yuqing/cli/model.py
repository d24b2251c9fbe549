"""``yuqing model train|eval|list|feedback|rules-check``: the classifier's life cycle."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from classifiers import real_eval, registry
from classifiers.corpus import load_corpus, split
from classifiers.feedback import Correction, FeedbackStore
from classifiers.keywords import KeywordScorer
from classifiers.rules import default_rules_path, load_rules
from classifiers.scorer import ModelScorer
from classifiers.training import Output, evaluate, model_outputs, report_markdown, train
from pipeline.backends import open_index
from pipeline.config import Settings
from pipeline.records import DEPARTMENTS
from yuqing.cli.common import settings_from
from yuqing.cli.progress import Progress
from yuqing.pages_eval import judge_pages, summary


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser("train", help="train on the corpus (+ feedback), evaluate on the held-out split")
    train.add_argument("--corpus", type=Path, help="folder of *.jsonl (default: the shipped corpus)")
    train.add_argument("--out", type=Path, help="where models go (default: DATA_DIR/models)")
    train.add_argument("--no-feedback", action="store_true", help="leave analysts' corrections out")
    train.add_argument("--no-default", action="store_true", help="do not make it the default model")
    train.set_defaults(run=run_train)

    ev = actions.add_parser("eval", help="evaluate a model on the held-out split")
    ev.add_argument("--model", metavar="VERSION")
    ev.add_argument("--corpus", type=Path)
    ev.add_argument("--pages", type=Path, metavar="DIR",
                    help="also judge real saved pages in DIR against our labels "
                    "(classifiers/data/realworld_labels.jsonl), e.g. shared/realworld/pages")
    ev.add_argument("--labels", type=Path, help="labels for --pages (default: the shipped ones)")
    ev.add_argument("--real", type=Path, metavar="DIR", help="also judge labelled real passages "
                    "(DIR/*.jsonl, e.g. shared/realworld/passages) or DATA_DIR/feedback.sqlite3")
    ev.set_defaults(run=run_eval)

    ls = actions.add_parser("list", help="known model versions and their held-out scores")
    ls.set_defaults(run=run_list)

    fb = actions.add_parser("feedback", help="record an analyst's correction for the next training")
    fb.add_argument("article_id", help="content hash of an indexed article")
    fb.add_argument("--kind", required=True, choices=["false-alarm", "missed", "wrong-department"])
    fb.add_argument("--level", type=int, choices=range(4), help="the right level")
    fb.add_argument("--department", choices=DEPARTMENTS, help="the right office")
    fb.add_argument("--note", default="")
    fb.add_argument("--analyst", default="")
    fb.set_defaults(run=run_feedback)

    rc = actions.add_parser("rules-check", help="validate a keyword-scheme file (FILE:LINE errors)")
    rc.add_argument("file", nargs="?", type=Path)
    rc.set_defaults(run=run_rules_check)


def _settings(args) -> Settings:
    return settings_from(args)


def run_train(args: argparse.Namespace) -> int:
    settings = _settings(args)
    examples = load_corpus(args.corpus)
    train_set, held_out = split(examples)
    feedback_path = settings.paths.data_dir / "feedback.sqlite3"
    corrections = []
    if not args.no_feedback and feedback_path.exists():
        store = FeedbackStore(feedback_path)
        corrections = [c.example() for c in store.all()]
        store.close()
    print(f"training on {len(train_set)} texts + {len(corrections)} corrections; "
          f"{len(held_out)} held out", flush=True)
    # the steps are few and long (fitting, then three evaluations): the bar counts steps
    with Progress(4, "train", "steps") as progress:
        model = train(train_set + corrections)
        progress.advance()
        texts = [e.full_text for e in held_out]
        reports = [evaluate("model alone", held_out, model_outputs(model, texts), model.thresholds)]
        progress.advance()
        with_rules = ModelScorer(model, load_rules()).judge_many(texts)
        reports.append(evaluate("model + shipped schemes (what the pipeline runs)", held_out,
                                [Output(j.relevance, j.sensitivity, j.level, j.department)
                                 for j in with_rules], model.thresholds))
        progress.advance()
        keywords = KeywordScorer()
        baseline = [keywords.judge(t) for t in texts]
        reports.append(evaluate("keyword baseline (classifiers/keywords.py)", held_out, baseline))
        progress.advance()
    model.metadata["held_out"] = {"examples": len(held_out), "model": reports[0]["heads"],
                                  "department_accuracy": reports[0]["department"]["accuracy_on_relevant"]}
    model.metadata["feedback_examples"] = len(corrections)

    place = args.out or settings.paths.data_dir / "models"
    directory = place / model.version
    model.save(directory)
    body = "".join(report_markdown(r, r["model"]) + "\n" for r in reports)
    (directory / "eval.md").write_text(
        f"# Evaluation of {model.version}\n\nHeld-out split of the corpus (never trained on), "
        f"{len(held_out)} texts. Produced by `yuqing model train`.\n\n{body}", encoding="utf-8")
    (directory / "eval.json").write_text(json.dumps(reports, ensure_ascii=False, indent=2), "utf-8")
    if not args.no_default:
        registry.set_default(place, model.version)
    print(report_markdown(reports[0], f"{model.version} (held out)"))
    print(f"saved to {directory}" + ("" if args.no_default else " (now the default)"))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    settings = _settings(args)
    model = registry.load(args.model, settings.paths.data_dir)
    _, held_out = split(load_corpus(args.corpus))
    outputs = model_outputs(model, [e.full_text for e in held_out])
    print(report_markdown(evaluate(model.version, held_out, outputs, model.thresholds),
                          f"{model.version} on the held-out split"))
    if args.pages:
        results = judge_pages(ModelScorer(model, load_rules()), args.pages, args.labels)
        print(f"## real pages in {args.pages} (model + shipped schemes)\n")
        print("| page | labelled | judged | title | why |\n|---|---|---|---|---|")
        for r in results:
            mark = "" if (r.level > 0) == (r.want_level > 0) else " ✗"
            print(f"| {r.file} | {r.want_level} {r.want_department or '-'} | {r.level} "
                  f"{r.department or '-'}{mark} | {r.title[:24]} | {r.why} |")
        print()
        print(json.dumps(summary(results), ensure_ascii=False))
    if args.real:
        print(real_eval.run(ModelScorer(model, load_rules()), args.real, model.version))
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        default = registry.resolve(None, settings.paths.data_dir).name
    except Exception:
        default = None
    for version, path in sorted(registry.list_versions(settings.paths.data_dir).items()):
        meta = json.loads((path / "metadata.json").read_text("utf-8"))
        f1 = meta.get("held_out", {}).get("model", {}).get("relevance", {}).get("f1", "?")
        mark = "*" if version == default else " "
        print(f"{mark} {version}  created {meta.get('created', '?')}  relevance F1 {f1}  {path}")
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = open_index(settings)
    try:
        article = index.get(args.article_id)
    finally:
        index.close()
    if article is None:
        print(f"yuqing model feedback: no article {args.article_id} in the index "
              f"(see `yuqing search ... --json` for ids)")
        return 2
    kind = args.kind.replace("-", "_")
    if kind == "false_alarm":
        level = 0 if args.level is None else args.level
    elif kind == "missed":
        if not args.level:
            print("yuqing model feedback: --kind missed needs --level 1..3 (the level it deserved)")
            return 2
        level = args.level
    else:
        if not args.department:
            print("yuqing model feedback: --kind wrong-department needs --department")
            return 2
        level = args.level if args.level is not None else max(article.level, 1)
    department = "" if level == 0 else (args.department or article.department or "宣传部")
    correction = Correction(article.id, kind, article.title, article.content, level, department,
                            sensitive=level >= 2 or article.sensitivity >= 0.5, note=args.note,
                            analyst=args.analyst)
    store = FeedbackStore(settings.paths.data_dir / "feedback.sqlite3")
    number = store.add(correction)
    store.close()
    print(f"recorded correction #{number}: {article.title[:30]} → level {level} {department or '-'}; "
          f"it joins the next `yuqing model train`")
    return 0


def run_rules_check(args: argparse.Namespace) -> int:
    path = args.file or default_rules_path()
    rules = load_rules(path)  # ConfigError → exit 2 with FILE:LINE lines
    print(f"{path}: ok — {len(rules.schemes)} schemes enabled")
    return 0
