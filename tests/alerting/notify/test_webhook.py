"""The generic JSON webhook (Apprise's json:// plugin) against a real HTTP receiver."""

from __future__ import annotations

import base64
import time

import pytest

from alerting.notify import DeliveryError, Notification, build_channel, load_channel_config
from alerting.notify.testing import closed_port


def webhook(url: str, **fields):
    return build_channel(load_channel_config({"name": "oa", "kind": "webhook", "url": url,
                                              **fields}))


def test_posts_apprise_json_with_the_alert_fields(hook, note):
    url = hook.url("/api/alerts?tenant=xianjiwei").replace("http://", "http://oa:p%40ss@")
    webhook(url, headers={"X-Token": "t-123"}).send(note)

    [request] = hook.requests
    assert (request.method, request.path) == ("POST", "/api/alerts")
    assert request.query == {"tenant": ["xianjiwei"]}
    assert request.headers["x-token"] == "t-123"
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"oa:p@ss").decode()
    assert request.json == {
        "version": "1.0", "title": note.subject, "message": note.body, "attachments": [],
        "type": "warning", "level": 2, "level_name": "较大",
        "alert_id": "AL-20240611-0007", "url": note.url,
    }


def test_missing_fields_are_null_and_level_three_is_a_failure_type(hook):
    webhook(hook.url("/hook")).send(Notification("重大舆情", "正文", level=3))
    body = hook.requests[0].json
    assert (body["type"], body["alert_id"], body["url"]) == ("failure", None, None)


@pytest.mark.parametrize("status, retryable", [(500, True), (503, True), (429, True),
                                                (400, False), (401, False), (404, False)])
def test_a_failed_status_says_whether_to_retry(hook, note, status, retryable):
    hook.answer(status, "no")
    with pytest.raises(DeliveryError) as caught:
        webhook(hook.url("/hook")).send(note)
    assert (caught.value.retryable, caught.value.code) == (retryable, "http_status")
    assert f"HTTP {status}" in caught.value.reason


def test_the_retry_after_a_server_error_gets_through(hook, note):
    channel = webhook(hook.url("/hook"))
    hook.answer(502, "bad gateway")
    with pytest.raises(DeliveryError):
        channel.send(note)
    channel.send(note)
    assert len(hook.requests) == 2


def test_an_unreachable_endpoint_fails_fast(note):
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        webhook(f"http://127.0.0.1:{closed_port()}/hook").send(note)
    assert time.monotonic() - started < 2
    assert (caught.value.retryable, caught.value.code) == (True, "unreachable")


def test_a_slow_endpoint_is_given_up_after_the_timeout(hook, note):
    hook.answer(200, "late", delay_s=3)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        webhook(hook.url("/hook"), timeout_s=0.5).send(note)
    assert time.monotonic() - started < 2
    assert (caught.value.retryable, caught.value.code) == (True, "timeout")
