"""Briefings filled from the alert database and the index: deadlines met and missed are named,
offices' tasks counted, and the scheduled briefing is made and announced once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from alerting.access import Actor
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.notify.testing import WebhookReceiver
from alerting.reports import BriefingJob, gather, period
from alerting.service import AlertService
from alerting.testing import scored
from alerting.workflow import TaskSpec
from pipeline.backends import open_index
from pipeline.config import load_settings
from pipeline.index.sqlite import SqliteIndex
from pipeline.records import SHANGHAI

NINE = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
OFFICE = Actor("王敏", "宣传部")


def a_day_of_work(service, clock):
    on_time = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="r1"))
    late = service.ingest(scored("多名群众围堵镇政府", at=clock.now(), story="r2"))
    service.ingest(scored("县纪委监委召开警示教育会", at=clock.now(), level=1, story="r3"))
    service.consult(late, OFFICE, [TaskSpec("核查现场情况", "监督检查室", "刘洋", timedelta(minutes=30))])
    clock.advance(minutes=40)
    service.report(on_time, OFFICE)
    clock.advance(minutes=30)
    service.tick(deliver=False)                      # 10:10: the second story's hour has passed
    return on_time, late


def test_the_briefing_names_the_missed_deadline_and_the_overdue_task(store_factory):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    on_time, late = a_day_of_work(service, clock)
    start, end, prev_start, prev_end = period("daily", date(2026, 11, 26))
    data = gather(service.store, service.config, "daily", start, end, prev_start, prev_end, clock.now())

    assert data.totals == {0: 0, 1: 1, 2: 0, 3: 2}
    outcome = {(d.alert_id, d.kind): d.status for d in data.deadlines}
    assert outcome == {(on_time, "1小时上报"): "met", (late, "1小时上报"): "missed", (late, "会商任务"): "missed"}
    assert {(s.alert_id, s.deadline_status) for s in data.stories} == {(on_time, "met"), (late, "missed")}
    (tasks,) = data.tasks
    assert (tasks.office, tasks.open, tasks.overdue) == ("监督检查室", 1, 1)
    assert data.sources[0].source == "weibo-huichang"


def test_the_index_adds_the_unrelated_articles_and_relevant_ones_count_once_by_first_seen(store_factory, tmp_path):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    index = SqliteIndex(tmp_path / "index.sqlite3")
    for n in range(4):
        article = scored(f"某镇征地补偿款被截留{n}", at=NINE + timedelta(hours=n), level=2, story="land",
                         text=f"村民反映征地补偿款被截留，第{n}篇")
        index.add(article)                           # in the index and in the alert database: counted once
        service.ingest(article)
        index.add(scored(f"本地天气{n}", at=NINE + timedelta(hours=n), level=0, text=f"多云转晴{n}"))
    index.flush()
    start, end, prev_start, prev_end = period("daily", date(2026, 11, 26))
    data = gather(service.store, service.config, "daily", start, end, prev_start, prev_end, clock.now(), index)
    index.close()
    assert data.totals == {0: 4, 1: 0, 2: 4, 3: 0}
    (story,) = data.stories
    assert story.title == "某镇征地补偿款被截留0"
    trend = next(t for t in data.rising_terms if t.term in ("补偿款", "截留", "征地"))
    assert trend.examples[0] == "某镇征地补偿款被截留0"


def test_the_daily_briefing_is_made_on_schedule_and_announced_once(store_factory, tmp_path):
    with WebhookReceiver() as hook:
        config = AlertingConfig.model_validate({
            "notify": {"channels": [{"name": "hook", "kind": "webhook", "url": hook.url("/briefing")}]},
            "briefings": {"daily_at": "07:30", "weekly_at": None, "channels": ["hook"]}})
        clock = ManualClock(NINE)
        service = AlertService(store_factory(), config, clock=clock)
        a_day_of_work(service, clock)
        settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(tmp_path)})
        job = BriefingJob(service.store, config, lambda: open_index(settings), tmp_path / "briefings")

        clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=SHANGHAI))
        assert job(clock.now()) == []                # not yet 07:30
        clock.set(datetime(2026, 11, 27, 7, 31, tzinfo=SHANGHAI))
        (made,) = job(clock.now())
        assert made.pdf.name == "舆情日报-2026-11-26.pdf" and made.pdf.stat().st_size > 10_000
        assert job(clock.now()) == []                # made once
        service.tick()
        service.tick()
        (announced,) = hook.wait(1)
        assert "舆情日报" in announced.json["title"] and "舆情日报-2026-11-26.pdf" in announced.json["message"]


def test_a_first_start_after_the_scheduled_time_makes_no_briefing_of_a_period_not_watched(
        store_factory, tmp_path):
    config = AlertingConfig.model_validate({"briefings": {"daily_at": "07:30", "weekly_at": "08:00"}})
    clock = ManualClock(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))  # a Monday, after both
    service = AlertService(store_factory(), config, clock=clock, channels={})
    settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(tmp_path)})
    job = BriefingJob(service.store, config, lambda: open_index(settings), tmp_path / "briefings")
    assert job(clock.now()) == [] and job(clock.now() + timedelta(hours=3)) == []
    assert not list((tmp_path / "briefings").glob("*.pdf"))
    # the next morning's is made as scheduled
    (made,) = job(datetime(2026, 12, 1, 7, 31, tzinfo=SHANGHAI))
    assert made.pdf.name == "舆情日报-2026-11-30.pdf"
    # and once one exists, a restart after the scheduled time catches up as before
    restarted = BriefingJob(service.store, config, lambda: open_index(settings), tmp_path / "briefings")
    (caught_up,) = restarted(datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI))
    assert caught_up.pdf.name == "舆情日报-2026-12-01.pdf"


def test_the_scheduled_briefing_names_the_sources_as_the_sources_file_does(store_factory, tmp_path):
    config = AlertingConfig.model_validate({"briefings": {"daily_at": "07:30", "weekly_at": None}})
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), config, clock=clock, channels={})
    a_day_of_work(service, clock)
    settings = load_settings(None, env={}, overrides={("paths", "data_dir"): str(tmp_path)})
    names = {"weibo-huichang": "微博·会昌发布"}
    job = BriefingJob(service.store, config, lambda: open_index(settings), tmp_path / "briefings",
                      source_names=lambda: names)
    assert job(datetime(2026, 11, 27, 7, 0, tzinfo=SHANGHAI)) == []   # started before its time
    (made,) = job(datetime(2026, 11, 27, 7, 31, tzinfo=SHANGHAI))
    page = made.html.read_text(encoding="utf-8")
    assert "微博·会昌发布" in page and "weibo-huichang" not in page


def day_briefing(service, clock, day: date, made: datetime):
    clock.set(made)
    service.tick(deliver=False)
    start, end, previous_start, previous_end = period("daily", day)
    return gather(service.store, service.config, "daily", start, end, previous_start, previous_end, clock.now())


def test_a_deadline_is_counted_in_the_briefing_of_the_day_it_falls_due_only(store_factory):
    clock = ManualClock(datetime(2026, 12, 6, 21, 0, tzinfo=SHANGHAI))
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    alert_id = service.ingest(scored("某村低保名额给了村干部亲戚", at=clock.now(), level=1, story="d1"))
    (task,) = service.consult(alert_id, OFFICE, [TaskSpec("调取低保审批记录", "监督检查室", "刘洋",
                                                          timedelta(hours=12))])     # due Monday 09:00
    sunday = day_briefing(service, clock, date(2026, 12, 6), datetime(2026, 12, 7, 7, 30, tzinfo=SHANGHAI))
    assert sunday.deadlines == []
    clock.set(datetime(2026, 12, 7, 8, 40, tzinfo=SHANGHAI))
    service.complete_task(task, Actor("刘洋", "监督检查室"), "已调取")
    monday = day_briefing(service, clock, date(2026, 12, 7), datetime(2026, 12, 8, 7, 30, tzinfo=SHANGHAI))
    assert [(r.kind, r.status) for r in monday.deadlines] == [("会商任务", "met")]


def test_a_story_shows_its_missed_clock_before_one_met_earlier(store_factory):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    alert_id = service.ingest(scored("网传县纪委干部收受红包视频", at=clock.now(), story="n1"))
    service.judge(alert_id, OFFICE, "可能影响全局", overall=True)
    clock.advance(minutes=30)
    service.report(alert_id, OFFICE, ["市纪委监委宣传部", "县委", "县委宣传部"])   # the hour is met
    clock.advance(hours=2)
    data = day_briefing(service, clock, NINE.date(), clock.now() + timedelta(hours=14))
    (story,) = [s for s in data.stories if s.alert_id == alert_id]
    assert (story.deadline_status, story.deadline) == ("missed", NINE + timedelta(hours=2))


def test_a_drills_dismissal_is_not_in_the_briefing(store_factory):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    real = service.ingest(scored("某镇开展廉政教育月活动", at=clock.now(), level=1, story="x1"))
    service.dismiss(real, OFFICE, "与纪检监察无关")
    drill = service.start_drill("演练：网传某镇干部酒驾顶包", 2, "宣传部", OFFICE)
    service.dismiss(drill, Actor("陈组长", role="leader"), "演练结束")
    data = day_briefing(service, clock, NINE.date(), clock.now() + timedelta(hours=20))
    assert [d.alert_id for d in data.dismissals] == [real]
