"""BriefingData's derived numbers and checks, and the sentences written from them."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import datetime, timedelta

import pytest

from alerting.briefing import prose
from alerting.briefing.data import DeadlineRecord, VolumePoint
from alerting.briefing.sample import DAY, empty_data, sample_data


def test_totals_and_change_against_the_previous_period():
    data = sample_data()
    totals = data.totals
    assert set(totals) == {0, 1, 2, 3}
    assert sum(totals.values()) == data.collected == sum(p.count for p in data.volume)
    assert data.relevant == totals[1] + totals[2] + totals[3]
    change = data.change()
    assert (change.current, change.previous) == (data.relevant, 31 + 6 + 0)
    assert data.change(3).ratio is None  # nothing 重大 the day before
    assert data.change(1).delta == totals[1] - 31


def test_duties_are_counted_and_the_missed_ones_named_earliest_first():
    data = sample_data()
    assert data.deadline_counts == {"met": 4, "missed": 2, "open": 1}
    missed = data.missed_deadlines
    assert [r.kind for r in missed] == ["限时核实上报", "1小时上报"]
    assert missed[1].lateness(data.generated_at) == pytest.approx(35 / 60)
    assert data.office_of(missed[0].alert_id) == "信访室"
    assert data.office_of("unknown") == ""
    assert data.task_totals.overdue == 2


def test_the_sample_is_deterministic_and_the_records_are_frozen_and_pickle():
    assert sample_data() == sample_data() and sample_data("weekly") == sample_data("weekly")
    data = sample_data()
    assert pickle.loads(pickle.dumps(data)) == data
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.unit = "x"


def test_naive_times_and_unknown_levels_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="VolumePoint.bucket"):
        VolumePoint(datetime(2026, 11, 26, 8), 1, 3)
    with pytest.raises(ValueError, match="level"):
        VolumePoint(DAY, 4, 3)
    with pytest.raises(ValueError, match="DeadlineRecord.done_at"):
        DeadlineRecord("a", "t", "1小时上报", DAY, datetime(2026, 11, 26, 9), "met")
    with pytest.raises(ValueError, match="period_start must be before"):
        dataclasses.replace(empty_data(), period_end=DAY)
    with pytest.raises(ValueError, match="kind"):
        dataclasses.replace(empty_data(), kind="monthly")


def test_periods_issue_numbers_and_lateness_in_words():
    daily, weekly = sample_data(), sample_data("weekly")
    assert prose.period_text(daily) == "2026年11月26日0时至24时"
    assert prose.period_text(weekly) == "2026年11月20日至26日"
    ranged = dataclasses.replace(daily, kind="range", period_start=DAY - timedelta(days=40, hours=-8),
                                 period_end=DAY + timedelta(hours=8))
    assert prose.period_text(ranged) == "2026年10月17日8时至11月26日8时"
    assert (prose.issue_number(daily), prose.issue_number(weekly), prose.issue_number(ranged)) == (330, 47, None)
    assert prose.issue_number(dataclasses.replace(daily, issue=12)) == 12
    assert prose.lateness_text(3 + 40 / 60) == "3小时40分"
    assert prose.lateness_text(26) == "1天2小时"
    assert prose.lateness_text(0) == "—"
    assert prose.lateness_text(20 / 3600) == "不足1分钟"  # missed by 20 seconds: still missed


def test_the_overview_is_written_from_the_numbers():
    data = sample_data()
    first, second = prose.overview(data)
    totals = data.totals
    assert f"按首次监测时间统计，监测到涉及纪检监察工作的舆情信息{data.relevant}条，较前一日（37条）增加{data.relevant - 37}条" in first
    assert f"其中重大{totals[3]}条、较大{totals[2]}条、一般{totals[1]}条" in first
    assert f"另采集与纪检监察工作无关的网络信息{totals[0]}条" in first
    assert second.startswith("本期纳入重要舆情管理7起（重大1起、较大3起、一般3起）")
    assert "有2项时限事项未按时完成" in second


def test_quiet_periods_say_so():
    assert "未监测到新的涉及纪检监察工作的舆情信息" in prose.overview(empty_data())[0]
    assert "请核实各信息源采集是否正常" in prose.overview(empty_data())[0]
    assert len(prose.overview(empty_data())) == 1
    assert prose.stories_text(empty_data()) == "本期无纳入重要舆情管理的事件（较大、重大舆情）。"
    only_noise = dataclasses.replace(empty_data(), volume=[VolumePoint(DAY, 0, 120)],
                                     previous_totals={1: 4})
    assert "未监测到新的涉及纪检监察工作的舆情信息（前一日4条）。采集与纪检监察工作无关的网络信息120条" in \
        prose.overview(only_noise)[0]
    falling = dataclasses.replace(empty_data(), volume=[VolumePoint(DAY, 1, 8)], previous_totals={1: 10})
    assert "较前一日（10条）减少2条、下降20.0%" in prose.overview(falling)[0]
