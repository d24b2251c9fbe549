"""E-mail against a real SMTP server (aiosmtpd on 127.0.0.1): Chinese arrives intact, and every
failure says whether a retry can help."""

from __future__ import annotations

import time

import pytest

from alerting.notify import DeliveryError, build_channel, load_channel_config
from alerting.notify.testing import SilentServer, SmtpReceiver, closed_port


def channel(data):
    return build_channel(load_channel_config(data))


def test_chinese_subject_sender_and_body_arrive_and_decode(smtp, note):
    mail = channel(smtp.channel_config(sender="县纪委舆情系统 <yuqing@example.org>",
                                       to=["xcb@example.org", "xfs@example.org"]))
    mail.send(note)

    [msg] = smtp.messages
    assert msg["Subject"] == note.subject
    assert msg["From"].addresses[0].display_name == "县纪委舆情系统"
    assert msg["X-Yuqing-Alert-Id"] == "AL-20240611-0007"
    text = msg.get_content().replace("\r\n", "\n")
    assert text.startswith("有网民在本地论坛发帖，反映某镇卫生院违规收费。\n帖子已被转载 12 次。")
    assert "预警级别：较大" in text and f"详情链接：{note.url}" in text
    assert msg.get_content_charset() == "utf-8"
    # on the wire everything is 7-bit (RFC 2047 headers, encoded body): old relays pass it
    smtp.raw[0].decode("ascii")
    assert smtp.envelopes == [("yuqing@example.org", ["xcb@example.org", "xfs@example.org"])]


def test_login_is_used_and_a_wrong_password_is_not_retried(note):
    with SmtpReceiver(login=("yuqing", "right-pass")) as smtp:
        channel(smtp.channel_config()).send(note)
        assert len(smtp.messages) == 1

        with pytest.raises(DeliveryError) as caught:
            channel(smtp.channel_config(password="wrong-pass")).send(note)
    error = caught.value
    assert (error.retryable, error.code, error.channel) == (False, "auth", "mail")
    assert "check username and password" in error.reason
    assert "wrong-pass" not in str(error)
    assert len(smtp.messages) == 1


def test_a_temporary_refusal_is_retryable_and_the_retry_gets_through(smtp, note):
    mail = channel(smtp.channel_config())
    smtp.fail_next("451 4.3.0 mailbox busy, try later")
    with pytest.raises(DeliveryError) as caught:
        mail.send(note)
    assert (caught.value.retryable, caught.value.code) == (True, "rejected")
    assert "451" in caught.value.reason

    mail.send(note)
    assert len(smtp.messages) == 1


def test_a_permanent_refusal_is_not_retried(smtp, note):
    smtp.fail_next("554 5.7.1 message rejected as spam")
    with pytest.raises(DeliveryError) as caught:
        channel(smtp.channel_config()).send(note)
    assert (caught.value.retryable, caught.value.code) == (False, "rejected")
    assert "554" in caught.value.reason


def test_a_refused_recipient_among_others_is_partial_and_not_retried(smtp, note):
    smtp.refuse("gone@example.org")
    mail = channel(smtp.channel_config(to=["xcb@example.org", "gone@example.org"]))
    with pytest.raises(DeliveryError) as caught:
        mail.send(note)
    # the others got it: a retry would send them a second copy
    assert (caught.value.retryable, caught.value.code) == (False, "partial")
    assert "gone@example.org: 550" in caught.value.reason
    assert smtp.envelopes == [("yuqing@example.org", ["xcb@example.org"])]


def test_every_recipient_refused_is_reported_with_the_addresses(smtp, note):
    smtp.refuse("gone@example.org")
    with pytest.raises(DeliveryError) as caught:
        channel(smtp.channel_config(to=["gone@example.org"])).send(note)
    assert (caught.value.retryable, caught.value.code) == (False, "rejected")
    assert "gone@example.org" in caught.value.reason and not smtp.messages


def test_an_unreachable_server_fails_fast_and_is_retryable(note):
    port = closed_port()
    mail = channel({"name": "mail", "kind": "email", "host": "127.0.0.1", "port": port,
                    "security": "none", "sender": "a@example.org", "to": ["b@example.org"]})
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        mail.send(note)
    assert time.monotonic() - started < 2
    assert (caught.value.retryable, caught.value.code) == (True, "unreachable")
    assert f"127.0.0.1:{port}" in caught.value.reason


def test_a_server_that_never_answers_times_out(note):
    with SilentServer() as silent:
        mail = channel({"name": "mail", "kind": "email", "host": "127.0.0.1",
                        "port": silent.port, "security": "none", "timeout_s": 0.5,
                        "sender": "a@example.org", "to": ["b@example.org"]})
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            mail.send(note)
    assert time.monotonic() - started < 2
    assert (caught.value.retryable, caught.value.code) == (True, "timeout")


def test_the_wrong_security_mode_is_a_setting_to_fix_not_a_retry(smtp, note):
    with pytest.raises(DeliveryError) as implicit_tls:
        channel(smtp.channel_config(security="ssl")).send(note)
    assert (implicit_tls.value.retryable, implicit_tls.value.code) == (False, "tls")

    # the receiver offers no STARTTLS
    with pytest.raises(DeliveryError) as starttls:
        channel(smtp.channel_config(security="starttls")).send(note)
    assert starttls.value.retryable is False
    assert "STARTTLS" in starttls.value.reason and "security" in starttls.value.reason
    assert not smtp.messages
