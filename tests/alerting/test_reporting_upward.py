"""Reporting upward as the rules lay it out: directory units only, level by level, receipts confirmed
and chased; and the handling records (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from alerting import accountability
from alerting.access import Actor
from alerting.config import AlertingConfig, load_alerting_config
from alerting.errors import Forbidden, IllegalTransition, NotFound, UnknownOffice, UnknownUnit
from alerting.service import AlertService
from alerting.store.engine import MIGRATIONS, upgrade
from alerting.testing import NINE, scored
from pipeline.errors import ConfigError

OFFICE = Actor("王敏", "宣传部")
CASES = Actor("赵刚", "案管室")
PETITIONS = Actor("李强", "信访室")
LEADER = Actor("陈组长", role="leader")


def overall_item(service, clock, story="u1"):
    """A 重大 item that may affect the overall situation: both clocks run."""
    alert_id = service.ingest(scored("网传县纪委干部收受红包，视频扩散", at=clock.now(), story=story))
    service.judge(alert_id, OFFICE, "涉纪检监察干部，可能影响全局", overall=True)
    return alert_id


def test_only_units_of_the_directory_are_reported_to_and_the_refusal_lists_them(service, clock):
    alert_id = overall_item(service, clock)
    with pytest.raises(UnknownUnit) as refused:
        service.report(alert_id, OFFICE, ["张三"])
    assert "市纪委监委宣传部" in str(refused.value) and "中央纪委国家监委宣传部" in str(refused.value)
    with pytest.raises(UnknownUnit, match="partner"):
        service.report(alert_id, OFFICE, ["公安"])
    assert service.show(alert_id, OFFICE).reports == []     # nothing half-recorded


def test_the_chain_is_climbed_level_by_level_and_only_the_leader_may_skip_with_a_reason(service, clock):
    alert_id = overall_item(service, clock)
    with pytest.raises(IllegalTransition, match="市纪委监委宣传部、省纪委监委宣传部 before 中央纪委国家监委宣传部"):
        service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部"])
    with pytest.raises(Forbidden, match="组长"):
        service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部"], skip_reason="情况紧急")
    service.report(alert_id, OFFICE, ["市纪委监委宣传部"])
    with pytest.raises(IllegalTransition, match="省纪委监委宣传部 before 中央"):
        service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部"])
    # several at once go up in order, whatever order they were named in
    assert service.report(alert_id, OFFICE, ["中央纪委国家监委宣传部", "省纪委监委宣传部"]) == [
        "省纪委监委宣传部", "中央纪委国家监委宣传部"]

    other = overall_item(service, clock, story="u2")
    service.report(other, LEADER, ["中央纪委国家监委宣传部"], skip_reason="中央督办件，直报")
    (report,) = service.show(other, OFFICE).reports
    assert report.skip_reason == "中央督办件，直报"
    entry = service.show(other, OFFICE).history[-1]
    assert entry.action == "report" and entry.after["skipped"] == {
        "中央纪委国家监委宣传部": ["市纪委监委宣传部", "省纪委监委宣传部"]}


def test_each_step_has_its_deadline_met_once_its_units_have_a_report(service, clock):
    alert_id = overall_item(service, clock)
    clock.advance(minutes=40)
    service.report(alert_id, OFFICE, ["市纪委监委宣传部", "县委", "县委宣传部"])
    clocks = {d.key: d for d in service.show(alert_id, OFFICE).deadlines if d.kind in ("major", "overall")}
    assert clocks["major"].status == "met" and clocks["major"].due_at == NINE + timedelta(hours=1)
    assert clocks["overall"].status == "open"           # 省 and 中央 still to go
    clock.advance(minutes=30)
    service.report(alert_id, OFFICE, ["省纪委监委宣传部", "中央纪委国家监委宣传部"])
    clocks = {d.key: d for d in service.show(alert_id, OFFICE).deadlines if d.kind in ("major", "overall")}
    assert clocks["overall"].status == "met"


def test_reports_made_before_a_raise_meet_the_clock_the_raise_opens(service, clock):
    alert_id = service.ingest(scored("镇干部违规吃喝被曝光", at=clock.now(), story="u9", level=2))
    clock.advance(minutes=10)
    service.report(alert_id, OFFICE, ["市纪委监委宣传部", "县委", "县委宣传部"])
    reported = clock.now()
    clock.advance(minutes=20)
    service.escalate(alert_id, OFFICE, "事态扩大", level=3)
    (major,) = [d for d in service.show(alert_id, OFFICE).deadlines if d.key == "major"]
    assert (major.status, major.done_at) == ("met", reported)
    clock.advance(hours=2)
    assert service.tick().escalations == 0
    assert accountability.gather(service.store, service.config, NINE - timedelta(days=1),
                                 NINE + timedelta(days=1), clock.now()).lapses == []


def test_a_receipt_is_recorded_with_who_how_and_when_and_chased_while_unconfirmed(store_factory, clock, smtp):
    config = AlertingConfig.model_validate({"notify": {
        "channels": [smtp.channel_config("xcb_mail", to=["xcb@huichang.example"])],
        "routes": [{"offices": ["宣传部"], "channels": ["xcb_mail"]}]}})
    service = AlertService(store_factory(), config, clock=clock)
    alert_id = overall_item(service, clock)
    service.report(alert_id, OFFICE, ["市纪委监委宣传部", "县委"])
    clock.advance(minutes=20)
    service.confirm_receipt(alert_id, OFFICE, "市纪委监委宣传部", "刘科长", "电话", "已收到书面材料")
    with pytest.raises(IllegalTransition, match="already confirmed by 刘科长"):
        service.confirm_receipt(alert_id, OFFICE, "市纪委监委宣传部", "刘科长", "电话")
    with pytest.raises(NotFound, match="not reported to 省纪委监委宣传部"):
        service.confirm_receipt(alert_id, OFFICE, "省纪委监委宣传部", "某人", "机要")
    with pytest.raises(IllegalTransition, match="电话、传真、机要、邮件"):
        service.confirm_receipt(alert_id, OFFICE, "县委", "值班员", "微信")

    clock.advance(minutes=11)                             # 30 minutes after the report to 县委
    assert service.tick().escalations == 0                # a chase, not a lapse of ours
    service.tick()

    def chases():
        return [e.after["label"] for e in service.show(alert_id, OFFICE).history
                if e.action == "remind" and e.after["timer"] == "receipt"]
    assert chases() == ["回执·县委"]                        # once, for the one unconfirmed
    receipts = {d.label: d for d in service.show(alert_id, OFFICE).deadlines if d.kind == "receipt"}
    assert receipts["回执·市纪委监委宣传部"].status == "met"
    assert receipts["回执·县委"].status == "open"
    chase = [m for m in smtp.messages if m["Subject"].startswith("【回执未确认】")]
    assert [m["Subject"] for m in chase] == ["【回执未确认】县委：网传县纪委干部收受红包，视频扩散"]
    assert "yuqing alerts receipt" in chase[0].get_content()

    service.confirm_receipt(alert_id, OFFICE, "县委", "县委办值班员", "传真")
    reports = {r.recipient: r for r in service.show(alert_id, OFFICE).reports}
    assert (reports["县委"].received_by, reports["县委"].received_via, reports["县委"].received_at,
            reports["县委"].receipt_recorded_by) == ("县委办值班员", "传真", clock.now(), "王敏")
    receipts = {d.label: d for d in service.show(alert_id, OFFICE).deadlines if d.kind == "receipt"}
    assert receipts["回执·县委"].status == "missed"        # confirmed after its time: late in the record
    assert [e.action for e in service.show(alert_id, OFFICE).history].count("receipt") == 2


def test_handling_is_recorded_with_who_when_what_and_a_clue_gives_the_office_a_task(service, clock):
    alert_id = overall_item(service, clock)
    clock.advance(minutes=15)
    service.handle(alert_id, OFFICE, "辟谣", "县纪委监委官方网站发布情况说明，视频系旧闻",
                   link="https://www.hclz.gov.cn/news/1201.html")
    service.handle(alert_id, OFFICE, "协同", "请县公安局核查视频来源", partner="公安")
    service.handle(alert_id, OFFICE, "线索移交", "视频所涉干部问题线索", office="案管室")
    detail = service.show(alert_id, OFFICE)
    kinds = [(h.kind, h.actor, h.at) for h in detail.handlings]
    assert kinds == [("辟谣", "王敏", clock.now()), ("协同", "王敏", clock.now()), ("线索移交", "王敏", clock.now())]
    clue = detail.handlings[2]
    (task,) = [t for t in detail.tasks if t.kind == "clue"]
    assert clue.task_id == task.id and task.office == "案管室"
    (deadline,) = [d for d in detail.deadlines if d.key == f"task:{task.id}"]
    assert deadline.label == f"线索签收#{task.id}" and deadline.due_at == clock.now() + timedelta(hours=2)

    # the receiving office sees it and signs for it within its time
    assert alert_id in [a.id for a in service.list(CASES)]
    clock.advance(minutes=30)
    service.complete_task(task.id, CASES, "已签收，登记线索")
    (deadline,) = [d for d in service.show(alert_id, OFFICE).deadlines if d.key == f"task:{task.id}"]
    assert deadline.status == "met"


def test_handling_refuses_what_it_cannot_record(service, clock):
    alert_id = overall_item(service, clock)
    with pytest.raises(UnknownUnit, match="上级纪委、公安、检察院、法院、律师协会、网信办"):
        service.handle(alert_id, OFFICE, "协同", "联系", partner="居委会")
    with pytest.raises(UnknownOffice):
        service.handle(alert_id, OFFICE, "线索移交", "线索", office="纪检组")
    with pytest.raises(IllegalTransition, match="receiving office"):
        service.handle(alert_id, OFFICE, "线索移交", "线索")
    with pytest.raises(IllegalTransition, match="http"):
        service.handle(alert_id, OFFICE, "回应", "已回应", link="javascript:alert(1)")
    with pytest.raises(IllegalTransition, match="--text"):
        service.handle(alert_id, OFFICE, "澄清", "  ")
    with pytest.raises(IllegalTransition, match="--kind"):
        service.handle(alert_id, OFFICE, "处理", "某事")
    with pytest.raises(NotFound):                # another office's alert is not theirs to see
        service.handle(alert_id, PETITIONS, "回应", "已回应")
    assert service.show(alert_id, OFFICE).handlings == []


def test_closing_ends_the_chase_of_unconfirmed_receipts(service, clock):
    alert_id = service.ingest(scored("某镇干部醉驾", at=clock.now(), story="u9"))
    service.report(alert_id, OFFICE)
    service.judge(alert_id, OFFICE, "属实")
    service.warn(alert_id, OFFICE, ["信访室"])
    task = service.show(alert_id, OFFICE).tasks[0]
    service.complete_task(task.id, PETITIONS, "已核实")
    service.deep_judge(alert_id, OFFICE, "清楚")
    service.propose(alert_id, OFFICE, "发布通报")
    service.approve(alert_id, LEADER)
    service.close(alert_id, OFFICE, "已平息")
    clock.advance(hours=1)
    assert service.tick().reminders == 0
    assert service.show(alert_id, OFFICE).history[-1].after["receipts_unconfirmed"] == [
        "回执·市纪委监委宣传部", "回执·县委", "回执·县委宣传部"]


def test_the_directory_is_validated_with_the_place_and_the_way_out(tmp_path):
    path = tmp_path / "alerting.yaml"
    path.write_text("directory:\n  - {name: 市纪委监委宣传部, kind: upward}\n  - {name: 县委, kind: party}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_alerting_config(path)
    assert any("directory[0]" in p and "order: 1" in p for p in caught.value.problems)

    path.write_text("directory:\n  - {name: 市纪委监委宣传部, kind: upward, order: 1}\n"
                    "  - {name: 县委, kind: party}\n  - {name: 县委宣传部, kind: propaganda}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_alerting_config(path)
    assert any("clocks.overall.recipients" in p and "省纪委监委宣传部" in p and "add it under directory" in p
               for p in caught.value.problems)

    path.write_text("directory:\n  - {name: 公安, kind: partner}\n  - {name: 公安, kind: partner}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="listed twice: 公安"):
        load_alerting_config(path)
    path.write_text("directory:\n  - {name: 公安, kind: police}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_alerting_config(path)
    assert any(p.startswith(f"{path}:2:") and "kind" in p for p in caught.value.problems)


def test_a_config_with_its_own_directory_reports_to_its_own_units(store_factory, clock):
    config = AlertingConfig.model_validate({
        "directory": [{"name": "市纪委监委宣传部", "kind": "upward", "order": 1},
                      {"name": "省纪委监委宣传部", "kind": "upward", "order": 2},
                      {"name": "中央纪委国家监委宣传部", "kind": "upward", "order": 3},
                      {"name": "县委", "kind": "party"}, {"name": "县委宣传部", "kind": "propaganda"},
                      {"name": "县政法委", "kind": "party"}]})
    service = AlertService(store_factory(), config, clock=clock, channels={})
    alert_id = service.ingest(scored("某镇干部醉驾", at=clock.now(), story="u10"))
    assert service.report(alert_id, OFFICE, ["县政法委"]) == ["县政法委"]
    with pytest.raises(UnknownUnit, match="县政法委"):
        service.report(alert_id, OFFICE, ["公安"])


def test_migration_0011_goes_down_to_0010_and_up_again_keeping_the_reports(store_factory, clock):
    store = store_factory()
    service = AlertService(store, AlertingConfig(), clock=clock, channels={})
    alert_id = service.ingest(scored("某镇干部醉驾", at=clock.now(), story="mig"))
    service.report(alert_id, OFFICE, ["市纪委监委宣传部"])
    service.confirm_receipt(alert_id, OFFICE, "市纪委监委宣传部", "刘科长", "电话")
    service.handle(alert_id, OFFICE, "回应", "已回应")

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    schema = inspect(store.engine)
    assert "handlings" not in schema.get_table_names()
    assert "received_by" not in {c["name"] for c in schema.get_columns("reports")}
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT recipient FROM reports")).scalars().all() == ["市纪委监委宣传部"]

    upgrade(store.engine)
    (report,) = service.show(alert_id, OFFICE).reports
    assert report.recipient == "市纪委监委宣传部" and report.received_at is None   # the receipt went with 0011
    assert service.show(alert_id, OFFICE).handlings == []


def test_a_receipt_confirmed_late_is_not_a_lapse_in_the_accountability_report(service, clock):
    alert_id = service.ingest(scored("某镇干部醉驾", at=clock.now(), story="acc"))
    service.report(alert_id, OFFICE)                    # on time: no lapse
    clock.advance(hours=2)
    service.tick()
    service.confirm_receipt(alert_id, OFFICE, "县委", "值班员", "电话")   # after its 30 minutes
    (receipt,) = [d for d in service.show(alert_id, OFFICE).deadlines if d.label == "回执·县委"]
    assert receipt.status == "missed"                    # late on the alert
    data = accountability.gather(service.store, service.config, NINE - timedelta(days=1), NINE + timedelta(days=1),
                                 clock.now())
    assert data.lapses == []
