"""Judging articles: how relevant and how sensitive each one is for discipline-inspection work,
its level and its office; and which story it belongs to.

    stage.py       the classify step: articles.raw → story clusters → scores → articles.scored
    stories.py     story clusters (exact and near duplicates, SimHash), first source, repost count
    scorer.py      ModelScorer: the trained model with the office's keyword schemes (rules.yaml)
    model.py       the model files; features.py, tokenize.py the words and TF-IDF features
    levels.py      the level and office as a decision over signals; signals.py the word cues;
                   subject.py an allegation against the commission, read across a whole text;
                   clean.py mirror-site damage removed before anything reads a text
    real_eval.py   labelled real passages or analysts' corrections measured (model eval --real)
    training.py    training and evaluation; corpus.py the labelled texts; feedback.py corrections
    keywords.py    the keyword baseline; registry.py model versions
"""
