"""Channel settings: each kind builds its channel; every mistake is named with what to write
instead; secrets stay hidden. Plus the contracts of Notification and DeliveryError."""

from __future__ import annotations

import pickle

import pytest

from alerting.notify import (Channel, DeliveryError, Notification, build_channel, build_channels,
                             load_channel_config)
from alerting.notify.bots import DingTalkChannel, FeishuChannel, WeComChannel
from alerting.notify.smtp import EmailChannel
from alerting.notify.webhook import WebhookChannel
from pipeline.errors import ConfigError

VALID = {
    "email": ({"host": "mail.example.gov.cn", "security": "ssl", "username": "yq",
               "password": "s3cret-pw", "sender": "舆情系统 <yq@example.gov.cn>",
               "to": ["xcb@example.gov.cn"]}, EmailChannel),
    "dingtalk": ({"url": "https://oapi.dingtalk.com/robot/send?access_token=tok-secret",
                  "secret": "SECs3cret"}, DingTalkChannel),
    "wecom": ({"key": "key-secret"}, WeComChannel),
    "feishu": ({"key": "hook-secret", "base_url": "https://open.larksuite.com"}, FeishuChannel),
    "webhook": ({"url": "https://oa.example.gov.cn/api?token=url-secret",
                 "headers": {"X-Token": "hdr"}}, WebhookChannel),
}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_kind_builds_its_channel_and_hides_its_secrets(kind):
    fields, cls = VALID[kind]
    config = load_channel_config({"name": f"c-{kind}", "kind": kind, **fields})
    channel = build_channel(config)
    assert isinstance(channel, cls) and isinstance(channel, Channel)
    assert channel.name == f"c-{kind}" and config.timeout_s == 10.0
    shown = repr(config) + repr(channel)
    for secret in ("s3cret", "tok-secret", "key-secret", "hook-secret", "url-secret"):
        assert secret not in shown


def test_robot_hosts_default_to_the_vendor_and_follow_base_url():
    def endpoint(kind, **fields):
        return build_channel(load_channel_config({"name": "r", "kind": kind, **fields})).endpoint

    assert endpoint("dingtalk", key="t") == "https://oapi.dingtalk.com/robot/send?access_token=t"
    assert endpoint("wecom", key="k") == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    assert endpoint("feishu", key="h") == "https://open.feishu.cn/open-apis/bot/v2/hook/h"
    assert endpoint("dingtalk", key="t", base_url="https://dd.zj.gov.cn/") == \
        "https://dd.zj.gov.cn/robot/send?access_token=t"


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_channel_config(data, where="alerting.yaml channels[2]")
    return caught.value.problems


def test_a_missing_or_misspelt_kind_lists_the_kinds():
    assert problems({"name": "x"}) == [
        "alerting.yaml channels[2]: kind: required; one of email, dingtalk, wecom, feishu, webhook"]
    assert problems({"name": "x", "kind": "emial"}) == [
        "alerting.yaml channels[2]: kind: 'emial' is not a channel kind; did you mean 'email'? "
        "Use one of email, dingtalk, wecom, feishu, webhook"]


def test_an_unknown_key_suggests_the_nearest_and_lists_the_allowed():
    [problem] = problems({"name": "x", "kind": "dingtalk", "key": "k", "secert": "S"})
    assert problem.startswith("alerting.yaml channels[2] (dingtalk): secert: unknown key; "
                              "did you mean 'secret'? Allowed for dingtalk: name, timeout_s, ")
    # WeCom robots cannot sign: a secret there is a mistake, not something to ignore
    [problem] = problems({"name": "x", "kind": "wecom", "key": "k", "secret": "S"})
    assert problem.startswith("alerting.yaml channels[2] (wecom): secret: unknown key")


def test_email_mistakes_are_each_reported():
    found = problems({"name": "Office Mail", "kind": "email", "host": "mail", "port": 70000,
                      "security": "tls", "username": "yq", "sender": "not-an-address",
                      "to": ["ok@example.org", "nobody"]})
    where = "alerting.yaml channels[2] (email): "
    assert found[0] == where + "name: 'Office Mail' is not allowed; use lower-case letters, " \
                               "digits, '_' and '-' (a channel name)"
    assert found[1].startswith(where + "port: Input should be less than or equal to 65535")
    assert found[2].startswith(where + "security: Input should be 'starttls', 'ssl' or 'none'")
    assert found[3] == where + "sender: 'not-an-address' is not an e-mail address " \
                               "(name <user@host> or user@host)"
    assert found[4] == where + "to: not e-mail addresses: 'nobody'"
    assert len(found) == 5
    assert problems({"name": "m", "kind": "email", "host": "h", "sender": "a@b.cn",
                     "to": ["c@d.cn"], "username": "yq"}) == [
        "alerting.yaml channels[2] (email): give both username and password, or neither "
        "(no SMTP login)"]
    assert problems({"name": "m", "kind": "email", "host": "h", "sender": "a@b.cn"}) == [
        "alerting.yaml channels[2] (email): to: required but missing"]


def test_a_robot_needs_exactly_one_of_url_and_key():
    where = "alerting.yaml channels[2] (feishu): "
    both = "give either url (the robot's webhook URL) or key, not both or neither"
    assert problems({"name": "f", "kind": "feishu"}) == [where + both]
    assert problems({"name": "f", "kind": "feishu", "key": "k", "url": "https://x.cn/h"}) == \
        [where + both]
    assert problems({"name": "f", "kind": "feishu", "url": "https://x.cn/h",
                     "base_url": "https://y.cn"}) == \
        [where + "base_url goes with key; a url already names its host"]
    assert problems({"name": "f", "kind": "feishu", "url": "open.feishu.cn/hook/1"}) == \
        [where + "url must start with http:// or https:// and name a host"]


def test_an_ascii_only_smtp_login_is_said_at_start():
    [problem] = problems({"name": "m", "kind": "email", "host": "h", "sender": "a@b.cn",
                          "to": ["c@d.cn"], "username": "yq", "password": "口令"})
    assert "must be ASCII" in problem and "口令" not in problem


def test_channel_names_must_be_unique():
    config = load_channel_config({"name": "dup", "kind": "wecom", "key": "k"})
    with pytest.raises(ConfigError, match="name 'dup' is used twice"):
        build_channels([config, config])
    assert list(build_channels([config])) == ["dup"]


def test_a_notification_is_one_line_of_subject_and_a_known_level():
    note = Notification("  【预警】\n某镇\t舆情 ", "正文", level=1)
    assert note.subject == "【预警】 某镇 舆情" and note.level_name == "一般"
    with pytest.raises(ValueError, match="subject"):
        Notification(" \n ", "正文", level=1)
    with pytest.raises(ValueError, match="level must be 0..3"):
        Notification("预警", "正文", level=4)


def test_a_delivery_error_survives_pickling_with_its_verdict():
    error = DeliveryError("xcb", "robot at https://x.cn: refused", False, code="rejected")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.channel, copy.reason, copy.retryable, copy.code) == \
        ("xcb", "robot at https://x.cn: refused", False, "rejected")
    assert str(copy) == "channel 'xcb': robot at https://x.cn: refused (not retried)"
    with pytest.raises(ValueError, match="unknown delivery code"):
        DeliveryError("xcb", "x", True, code="oops")


def test_inside_a_yaml_file_each_mistake_points_at_its_own_line():
    from pydantic import BaseModel, ConfigDict, ValidationError

    from alerting.notify import ChannelConfig
    from pipeline.yamlfile import parse_yaml, validation_problems

    class Notify(BaseModel):
        model_config = ConfigDict(extra="forbid")
        channels: list[ChannelConfig]

    raw = ("channels:\n"
           "  - {name: mail, kind: email, host: h, sender: a@b.cn, to: [c@d.cn]}\n"
           "  - name: xcb\n"
           "    kind: dingtalk\n"
           "    key: k\n"
           "    secert: SEC1\n"
           "  - name: ops\n"
           "    kind: feishu\n")
    data, marks = parse_yaml(raw, "alerting.yaml")
    with pytest.raises(ValidationError) as caught:
        Notify.model_validate(data)
    assert validation_problems(caught.value, marks, Notify) == [
        "alerting.yaml:6:13: channels[1].secert: unknown key; did you mean 'secret'? Allowed for "
        "dingtalk: name, timeout_s, url, key, base_url, verify_tls, kind, secret",
        "alerting.yaml:7:5: channels[2]: give either url (the robot's webhook URL) or key, "
        "not both or neither",
    ]
