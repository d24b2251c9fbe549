"""The office's keyword schemes: matching, raising levels, and FILE:LINE errors."""

from __future__ import annotations

import pytest

from classifiers import registry
from classifiers.rules import load_rules
from classifiers.scorer import ModelScorer
from pipeline.errors import ConfigError
from pipeline.text import normalize

RULES = """\
groups:
  本地: [会昌, 筠门岭]
schemes:
  - name: 本地负面
    regions: ["@本地"]
    events: [被查, 举报]
    exclusions: [双开门]
    level: 3
    force_relevant: true
    department: 宣传部
"""


def write(tmp_path, body):
    path = tmp_path / "rules.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_scheme_needs_every_condition_and_no_exclusion(tmp_path):
    rules = load_rules(write(tmp_path, RULES))
    [hit] = rules.match(normalize("網友舉報會昌某局長"))  # traditional script matches too
    assert hit.scheme.name == "本地负面" and set(hit.words) == {"会昌", "举报"}
    assert rules.match(normalize("某地有人举报")) == []  # no region word
    assert rules.match(normalize("会昌双开门冰箱被查出质量问题")) == []  # exclusion


def test_a_matching_scheme_raises_the_level_and_shows_in_the_explanation(tmp_path):
    scorer = ModelScorer(registry.load(), load_rules(write(tmp_path, RULES)))
    [plain] = ModelScorer(registry.load()).judge_many(["会昌一家超市被查出过期食品"])
    [ruled] = scorer.judge_many(["会昌一家超市被查出过期食品"])
    assert plain.level < 3
    assert (ruled.level, ruled.department) == (3, "宣传部")
    assert ruled.matched_rules == ("本地负面",)
    assert ruled.explanation[:2] == ("定级:重大", "依据:规则:本地负面")
    assert "规则:本地负面" in ruled.explanation


def test_rule_file_mistakes_name_the_line(tmp_path):
    path = write(tmp_path, "schemes:\n  - name: x\n    evnets: [a]\n    department: 办公室\n")
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert caught.value.problems == [
        f"{path}:3:5: schemes[0].evnets: unknown key; did you mean 'events'? Allowed here: name, "
        "regions, subjects, events, exclusions, level, force_relevant, department, enabled",
        f"{path}:4:17: schemes[0].department: '办公室' is not an office; use one of 宣传部, 信访室, 案管室",
    ]


def test_an_unknown_group_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no group named '外地'"):
        load_rules(write(tmp_path, "schemes:\n  - name: x\n    regions: ['@外地']\n"))


def test_the_shipped_rules_load():
    assert len(load_rules().schemes) >= 4


def test_overlapping_and_nested_words_are_all_found(tmp_path):
    rules = load_rules(write(tmp_path, "schemes:\n  - name: x\n    subjects: [审查调查]\n"
                             "    events: [调查组]\n  - name: y\n    events: [违纪违法]\n"
                             "    subjects: [严重违纪违法]\n"))
    assert rules.present(normalize("成立审查调查组，查处严重违纪违法")) == {
        "审查调查", "调查组", "严重违纪违法", "违纪违法"}
    assert [h.scheme.name for h in rules.match(normalize("成立审查调查组，查处严重违纪违法"))] == ["x", "y"]


def test_a_scheme_without_conditions_matches_every_text_without_its_exclusions(tmp_path):
    rules = load_rules(write(tmp_path, "schemes:\n  - name: all\n    exclusions: [广告]\n"
                             "  - name: local\n    regions: [会昌]\n"))
    assert [[h.scheme.name for h in hits] for hits in rules.match_many(
        [normalize("会昌新闻"), normalize("一则广告"), ""])] == [["all", "local"], [], ["all"]]
