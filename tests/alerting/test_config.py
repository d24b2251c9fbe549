"""alerting.yaml: the shipped example is valid, and mistakes are reported where they were written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import alerting
from alerting.config import load_alerting_config
from pipeline.errors import ConfigError

EXAMPLE = Path(alerting.__file__).with_name("alerting.example.yaml")


def test_the_shipped_example_is_valid_and_says_what_the_rules_say():
    config = load_alerting_config(EXAMPLE)
    assert config.clocks.major.within == timedelta(hours=1)
    assert config.clocks.overall.within == timedelta(hours=2)
    assert "中央纪委国家监委宣传部" in config.clocks.overall.recipients
    assert [c.name for c in config.notify.channels] == ["xcb_mail", "xcb_ding", "xfs_wecom", "wangmin_mail",
                                                         "leader_mail"]
    assert {p.name for p in config.people if p.head} == {"孙立", "李强"} and len(config.duty) == 2
    assert config.notify.quiet_hours.max_level == 1


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "alerting.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_office_a_bad_duration_and_a_misspelt_key_are_each_named_by_line(tmp_path):
    path = write(tmp_path, "coordinating_office: 宣传科\nclocks:\n  reminders: [30分钟]\nroutng: []\n")
    with pytest.raises(ConfigError) as caught:
        load_alerting_config(path)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:3:") and "not a duration" in p for p in problems)
    assert any(p.startswith(f"{path}:4:1") and "did you mean 'routing'" in p for p in problems)


def test_a_route_to_an_undefined_channel_is_refused(tmp_path):
    path = write(tmp_path, "notify:\n  routes:\n    - {channels: [nobody]}\n")
    with pytest.raises(ConfigError, match="channel 'nobody' is not defined under notify.channels"):
        load_alerting_config(path)


def test_an_office_not_in_the_list_is_refused(tmp_path):
    path = write(tmp_path, "coordinating_office: 宣传科\n")
    with pytest.raises(ConfigError, match="'宣传科' is not one of the offices"):
        load_alerting_config(path)
