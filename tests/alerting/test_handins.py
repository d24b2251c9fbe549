"""Items an office hands in (报送) enter the same queue as crawled ones: scored by the classifier,
the office's proposed level recorded beside the model's, the higher one governing with the reason
shown; and the audit log names who handed it in."""

from __future__ import annotations

import pytest

from alerting.access import Actor
from alerting.errors import Forbidden, UnknownOffice
from alerting.handins import item_article, level_of
from alerting.routing import Proposal
from alerting.testing import NINE
from classifiers.testing import ScriptedScorer

PETITIONS = Actor("李强", "信访室")


def scorer(level: int) -> ScriptedScorer:
    return ScriptedScorer(lambda article: level, department="信访室")


def hand_in(service, level_by_model: int, proposed: str | None, **item):
    article = item_article(item.pop("title", "群众来电反映某村低保评定不公"), item.pop("source", "群众来电"), NINE,
                           text=item.pop("text", "来电人称村干部把低保名额给了亲戚。"), **item)
    proposal = Proposal("信访室", level_of(proposed), "来电人称已向多家媒体反映")
    return service.hand_in(scorer(level_by_model).score(article), proposal, PETITIONS)


def test_a_higher_proposed_level_governs_and_says_why(service):
    alert_id = hand_in(service, 1, "较大")
    detail = service.show(alert_id, PETITIONS)
    assert detail.alert.level == 2
    assert "模型判定:一般" in detail.alert.level_reasons
    assert any(r.startswith("报送建议:信访室→较大（来电人称已向多家媒体反映）") and "从高" in r
               for r in detail.alert.level_reasons)
    assert service.queue(PETITIONS)[0][0].id == alert_id       # the same queue as crawled items
    assert detail.alert.first_source == "群众来电"


def test_a_lower_proposal_is_recorded_and_the_model_level_kept(service):
    alert_id = hand_in(service, 3, "一般", title="网传某局长酒驾", text="某微信群流传视频")
    alert = service.show(alert_id, PETITIONS).alert
    assert alert.level == 3
    assert any("不高于模型判定（重大），从高" in r for r in alert.level_reasons)


def test_the_audit_log_names_who_handed_it_in(service):
    alert_id = hand_in(service, 1, "重大", link="https://example.org/post/1")
    entries = [e for e in service.show(alert_id, PETITIONS).history if e.action == "hand_in"]
    assert [(e.actor, e.after["proposed"], e.after["model_level"]) for e in entries] == [("李强", 3, 1)]


def test_an_item_nobody_levels_opens_nothing(service):
    assert hand_in(service, 0, None) is None


def test_bad_items_are_refused_naming_what_to_fix(service):
    with pytest.raises(ValueError, match="give --link URL or --text TEXT"):
        item_article("标题", "群众来电", NINE)
    with pytest.raises(ValueError, match="not an http"):
        item_article("标题", "群众来电", NINE, link="javascript:alert(1)")
    with pytest.raises(ValueError, match="not one of 一般、较大、重大"):
        level_of("特大")
    article = scorer(1).score(item_article("标题", "群众来电", NINE, text="内容"))
    with pytest.raises(UnknownOffice):
        service.hand_in(article, Proposal("外单位"), PETITIONS)
    with pytest.raises(Forbidden, match="hand it in for your own office"):
        service.hand_in(article, Proposal("案管室"), PETITIONS)
