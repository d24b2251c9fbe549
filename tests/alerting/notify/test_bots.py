"""钉钉, 企业微信 and 飞书 robots against a real HTTP receiver on 127.0.0.1: the vendors' documented
payloads, signatures recomputed here from the vendors' formulas, and their refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from alerting.notify import DeliveryError, Notification, build_channel, load_channel_config
from alerting.notify.testing import SilentServer, WebhookReceiver, closed_port

DINGTALK_SECRET = "SEC2b8d1f0e9c7a6b5d4c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0"
FEISHU_SECRET = "nIMtb7r3N9pkXyXdtAbx6e"
FEISHU_OK = {"code": 0, "msg": "success", "data": {}}


def robot(kind: str, base_url: str, **fields):
    return build_channel(load_channel_config(
        {"name": f"test-{kind}", "kind": kind, "key": "robot-key-1", "base_url": base_url,
         **fields}))


def test_dingtalk_posts_signed_markdown(hook, note):
    robot("dingtalk", hook.base_url, secret=DINGTALK_SECRET).send(note)

    [request] = hook.requests
    assert request.path == "/robot/send"
    assert request.query["access_token"] == ["robot-key-1"]
    [timestamp], [sign] = request.query["timestamp"], request.query["sign"]
    assert abs(int(timestamp) - time.time() * 1000) < 5000  # milliseconds, near now
    # the documented formula: HmacSHA256(key=secret, "timestamp\nsecret"), Base64, URL-encoded
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(),
                                         f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert sign == expected
    assert request.headers["content-type"].startswith("application/json")
    assert request.json["msgtype"] == "markdown"
    markdown = request.json["markdown"]
    assert markdown["title"] == note.subject
    assert markdown["text"].startswith(f"### {note.subject}\n\n有网民在本地论坛发帖")
    assert "\n\n帖子已被转载 12 次。\n\n" in markdown["text"]
    assert "**预警级别**：较大" in markdown["text"]
    assert f"[查看详情]({note.url})" in markdown["text"]


def test_dingtalk_by_url_keeps_its_token_and_signs_only_with_a_secret(hook, note):
    url = hook.url("/robot/send?access_token=tok-9")
    for extra in ({"secret": DINGTALK_SECRET}, {}):
        build_channel(load_channel_config(
            {"name": "xcb", "kind": "dingtalk", "url": url, **extra})).send(note)
    signed, unsigned = hook.requests
    assert sorted(signed.query) == ["access_token", "sign", "timestamp"]
    assert signed.query["access_token"] == ["tok-9"]
    assert unsigned.query == {"access_token": ["tok-9"]}


def test_wecom_posts_markdown_to_its_key(hook, note):
    robot("wecom", hook.base_url).send(note)

    [request] = hook.requests
    assert request.path == "/cgi-bin/webhook/send"
    assert request.query == {"key": ["robot-key-1"]}
    assert request.json["msgtype"] == "markdown"
    content = request.json["markdown"]["content"]
    assert content.startswith(f"**{note.subject}**\n有网民在本地论坛发帖")
    assert '> 预警级别：<font color="warning">较大</font>' in content
    assert content.endswith(f"[查看详情]({note.url})")


def test_wecom_cuts_a_long_body_to_the_documented_4096_bytes(hook):
    long = Notification("长文预警", "某某舆情详情。" * 1000, level=3, url="https://x.example/1")
    robot("wecom", hook.base_url).send(long)
    content = hook.requests[0].json["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert "内容过长，已截断" in content and content.endswith("[查看详情](https://x.example/1)")


def test_feishu_posts_a_signed_post_message():
    with WebhookReceiver(body=FEISHU_OK) as hook:
        note = Notification("【重大预警】网传某局干部违规吃喝", "第一行。\n\n第三行。", level=3,
                            url="https://yuqing.example.gov.cn/alerts/9")
        robot("feishu", hook.base_url, secret=FEISHU_SECRET).send(note)

    [request] = hook.requests
    assert request.path == "/open-apis/bot/v2/hook/robot-key-1"
    body = request.json
    timestamp = body["timestamp"]
    assert isinstance(timestamp, str) and abs(int(timestamp) - time.time()) < 5  # seconds
    # the documented formula: HmacSHA256(key="timestamp\nsecret", message=empty), Base64
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == note.subject
    assert post["content"] == [
        [{"tag": "text", "text": "第一行。"}],
        [{"tag": "text", "text": ""}],
        [{"tag": "text", "text": "第三行。"}],
        [{"tag": "text", "text": "预警级别：重大"}],
        [{"tag": "text", "text": "详情链接："},
         {"tag": "a", "text": "查看详情", "href": "https://yuqing.example.gov.cn/alerts/9"}],
    ]


def test_feishu_without_secret_sends_no_signature():
    with WebhookReceiver(body=FEISHU_OK) as hook:
        robot("feishu", hook.base_url).send(Notification("测试", "正文", level=1))
    assert "sign" not in hook.requests[0].json and "timestamp" not in hook.requests[0].json


OK_ANSWER = {"dingtalk": {"errcode": 0, "errmsg": "ok"}, "wecom": {"errcode": 0, "errmsg": "ok"},
             "feishu": FEISHU_OK}
BUSY = {"dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
        "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
        "feishu": {"code": 11232, "msg": "frequency limited", "data": {}}}
REFUSED = {"dingtalk": {"errcode": 310000, "errmsg": "sign not match"},
           "wecom": {"errcode": 93000, "errmsg": "invalid webhook url"},
           "feishu": {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}}
KINDS = ["dingtalk", "wecom", "feishu"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_error_is_retryable_and_the_retry_gets_through(kind, note):
    with WebhookReceiver(body=OK_ANSWER[kind]) as hook:
        channel = robot(kind, hook.base_url)
        hook.answer(500, "<html>Internal Server Error</html>")
        with pytest.raises(DeliveryError) as caught:
            channel.send(note)
        assert (caught.value.retryable, caught.value.code) == (True, "http_status")
        assert "HTTP 500" in caught.value.reason

        channel.send(note)
        assert len(hook.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_vendor_refusal_in_a_200_answer_is_a_failure(kind, note):
    with WebhookReceiver(body=OK_ANSWER[kind]) as hook:
        channel = robot(kind, hook.base_url)
        hook.answer(200, BUSY[kind])
        with pytest.raises(DeliveryError) as busy:
            channel.send(note)
        hook.answer(200, REFUSED[kind])
        with pytest.raises(DeliveryError) as refused:
            channel.send(note)
    # rate limits pass; a wrong secret or key needs a person
    assert (busy.value.retryable, busy.value.code) == (True, "rejected")
    assert (refused.value.retryable, refused.value.code) == (False, "rejected")
    assert str(REFUSED[kind].get("errcode", REFUSED[kind].get("code"))) in refused.value.reason
    assert "check" in refused.value.reason


@pytest.mark.parametrize("kind", KINDS)
def test_answers_that_are_not_the_vendors_are_not_retried(kind, note):
    with WebhookReceiver(body=OK_ANSWER[kind]) as hook:
        channel = robot(kind, hook.base_url)
        hook.answer(404, "not found")
        with pytest.raises(DeliveryError) as missing:
            channel.send(note)
        hook.answer(200, "<html>登录</html>")
        with pytest.raises(DeliveryError) as html:
            channel.send(note)
    assert (missing.value.retryable, missing.value.code) == (False, "http_status")
    assert (html.value.retryable, html.value.code) == (False, "bad_response")


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreachable_robot_fails_fast_and_a_silent_one_times_out(kind, note):
    started = time.monotonic()
    with pytest.raises(DeliveryError) as refused:
        robot(kind, f"http://127.0.0.1:{closed_port()}").send(note)
    assert time.monotonic() - started < 2
    assert (refused.value.retryable, refused.value.code) == (True, "unreachable")

    with SilentServer() as silent:
        started = time.monotonic()
        with pytest.raises(DeliveryError) as silence:
            robot(kind, f"http://127.0.0.1:{silent.port}", timeout_s=0.5).send(note)
    assert time.monotonic() - started < 2
    assert (silence.value.retryable, silence.value.code) == (True, "timeout")


def test_errors_and_reprs_never_show_the_key_or_secret(hook, note):
    channel = robot("dingtalk", hook.base_url, secret=DINGTALK_SECRET)
    hook.answer(200, REFUSED["dingtalk"])
    with pytest.raises(DeliveryError) as caught:
        channel.send(note)
    shown = str(caught.value) + repr(channel) + repr(channel.config)
    assert "robot-key-1" not in shown and DINGTALK_SECRET not in shown
    assert hook.base_url in shown  # the server is named
