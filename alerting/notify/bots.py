"""Chat robots: 钉钉 (DingTalk custom robot), 企业微信 (WeCom group robot), 飞书 (Feishu/Lark bot).

Why these are written here and not taken from Apprise 2.3 (which has ``dingtalk://``,
``wecombot://`` and ``feishu://``): each plugin posts to a host fixed in its class
(``oapi.dingtalk.com``, ``qyapi.weixin.qq.com``, ``open.feishu.cn``), so it can reach neither a
test receiver nor the private deployments government offices use (政务钉钉, in-house WeCom). They
also fall short of what the vendors document: the DingTalk and WeCom plugins accept any HTTP 200,
although both answer 200 with ``errcode`` != 0 when they refuse a message; the Feishu plugin
cannot sign; and Apprise reports only True/False, while :class:`DeliveryError` must say whether
a retry can help. Each adapter below builds the vendor's documented JSON, posts it with httpx to
a configurable host, and reads the vendor's answer.

Signatures (tests recompute them from these formulas):

    钉钉  timestamp = ms since epoch; sign = base64(HMAC-SHA256(key=secret,
          msg=f"{timestamp}\\n{secret}")); both sent as query parameters (URL-encoded)
    飞书  timestamp = s since epoch; sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
          msg=b"")); both sent in the JSON body

Vendor answers: DingTalk and WeCom ``{"errcode": 0, "errmsg": "ok"}``, Feishu ``{"code": 0, ...}``
(older deployments: ``StatusCode``). A non-zero code is a failure. Codes that mean a person must
fix something (key, secret, keyword, IP whitelist) are listed per vendor and not retried;
anything else (busy, rate limited, a code we do not know) is retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
from typing import Any
from urllib.parse import quote

import httpx

from alerting.notify.base import DeliveryError, Notification, fit_bytes, origin
from alerting.notify.config import DingTalkConfig, FeishuConfig, WeComConfig

__all__ = ["DingTalkChannel", "FeishuChannel", "WeComChannel"]

_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "yuqing"}


class _Robot:
    """One chat group's robot. ``send`` posts once and raises :class:`DeliveryError` unless the
    vendor answered with code 0: retryable for network trouble, timeouts, 5xx/408/429 and
    vendor codes not known to be permanent; not retryable otherwise."""

    kind = ""
    DEFAULT_BASE = ""
    #: the largest request the vendor accepts, in bytes of UTF-8 (text beyond it is cut)
    MAX_BYTES = 18000
    #: vendor codes that need a person (wrong key, secret, keyword...), with what to check
    PERMANENT: dict[int, str] = {}

    def __init__(self, config: DingTalkConfig | WeComConfig | FeishuConfig):
        self.name = config.name
        self.config = config
        if config.url is not None:
            self.endpoint = config.url.get_secret_value()
        else:
            base = (config.base_url or self.DEFAULT_BASE).rstrip("/")
            self.endpoint = base + self._path(quote(config.key.get_secret_value(), safe=""))
        self._where = f"{self.kind} robot at {origin(self.endpoint)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {origin(self.endpoint)})"

    def send(self, message: Notification) -> None:
        url, payload = self.request(message)
        answer = self._post(url, payload)
        code = self._code(answer)
        if code is None:
            raise self._error("answered without a result code; is the url the robot's webhook?",
                              False, "bad_response")
        if code != 0:
            text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            hint = self.PERMANENT.get(code)
            raise self._error(f"refused the message: code {code} {text!r}"
                              + (f"; {hint}" if hint else ""), hint is None, "rejected")

    def request(self, note: Notification) -> tuple[str, dict[str, Any]]:
        """The URL and JSON body of one post (signed now, when the robot has a secret)."""
        raise NotImplementedError

    def _path(self, key: str) -> str:
        raise NotImplementedError

    @staticmethod
    def _code(answer: dict[str, Any]) -> int | None:
        value = answer.get("errcode")
        return value if isinstance(value, int) else None

    def _post(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        # a fresh connection per message: alerts are a few an hour, and a pooled connection the
        # vendor closed meanwhile would fail the next alert for no reason
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        timeout = self.config.timeout_s
        try:
            response = httpx.post(url, content=data, headers=_HEADERS, timeout=timeout,
                                  verify=self.config.verify_tls, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise self._error(f"no answer within {timeout:g}s ({type(exc).__name__})", True,
                              "timeout") from None
        except httpx.ConnectError as exc:
            if _is_certificate_error(exc):
                raise self._error(f"certificate not trusted ({exc}); fix it or set "
                                  "verify_tls: false", False, "tls") from None
            raise self._error(f"cannot connect ({exc})", True, "unreachable") from None
        except httpx.HTTPError as exc:
            raise self._error(f"request failed ({type(exc).__name__}: {exc})", True,
                              "unreachable") from None
        if not response.is_success:
            status = response.status_code
            snippet = " ".join(response.text[:200].split())
            retry = status >= 500 or status in (408, 429)
            raise self._error(f"answered HTTP {status} {snippet!r}"
                              + ("" if retry else "; check url or key and base_url"),
                              retry, "http_status")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            snippet = " ".join(response.text[:120].split())
            raise self._error(f"answered {response.status_code} but not with a JSON object "
                              f"({snippet!r}); is the url the robot's webhook?", False,
                              "bad_response")
        return answer

    def _error(self, reason: str, retryable: bool, code: str) -> DeliveryError:
        return DeliveryError(self.name, f"{self._where}: {reason}", retryable, code=code)


def _is_certificate_error(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


class DingTalkChannel(_Robot):
    """钉钉 custom robot: a ``markdown`` message whose title is the subject (the preview in the
    chat list); signed with ``timestamp`` and ``sign`` query parameters when a secret is set."""

    kind = "dingtalk"
    DEFAULT_BASE = "https://oapi.dingtalk.com"
    MAX_BYTES = 18000  # the robot refuses requests over 20000 bytes
    PERMANENT = {
        300001: "the access token is not valid; check url or key",
        310000: "a security check failed (signature, keyword or IP whitelist); check secret, "
                "the server clock and the robot's security settings",
        400101: "no such access token; check url or key",
        400102: "the robot is switched off in the group",
        400106: "the robot no longer exists",
    }

    def _path(self, key: str) -> str:
        return f"/robot/send?access_token={key}"

    def request(self, note: Notification) -> tuple[str, dict[str, Any]]:
        url = self.endpoint
        secret = self.config.secret
        if secret is not None:
            timestamp = str(int(time.time() * 1000))
            url = str(httpx.URL(url).copy_merge_params(
                {"timestamp": timestamp, "sign": dingtalk_sign(secret.get_secret_value(),
                                                               timestamp)}))
        head = f"### {note.subject}"
        tail = [f"**{label}**：{_link(label, value)}" for label, value in note.details()]
        room = self.MAX_BYTES - len((head + "".join(tail)).encode("utf-8")) - 200
        # DingTalk's markdown joins single newlines: every line becomes its own paragraph
        body = "\n\n".join(line for line in _lines(fit_bytes(note.body, room)) if line)
        text = "\n\n".join(part for part in [head, body, *tail] if part)
        payload = {"msgtype": "markdown", "markdown": {"title": note.subject, "text": text}}
        return url, payload


def _link(label: str, value: str) -> str:
    return f"[查看详情]({value})" if label == "详情链接" else value


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, "timestamp\\nsecret")), timestamp in milliseconds."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class WeComChannel(_Robot):
    """企业微信 group robot: a ``markdown`` message (the level in the vendor's warning colour);
    its content is cut to the documented 4096 bytes."""

    kind = "wecom"
    DEFAULT_BASE = "https://qyapi.weixin.qq.com"
    MAX_BYTES = 4096
    PERMANENT = {93000: "the webhook key is not valid; check url or key"}
    _COLOURS = {0: "comment", 1: "info", 2: "warning", 3: "warning"}

    def _path(self, key: str) -> str:
        return f"/cgi-bin/webhook/send?key={key}"

    def request(self, note: Notification) -> tuple[str, dict[str, Any]]:
        head = f"**{note.subject}**"
        tail = []
        for label, value in note.details():
            if label == "预警级别":
                value = f'<font color="{self._COLOURS[note.level]}">{value}</font>'
            tail.append(f"[查看详情]({value})" if label == "详情链接" else f"> {label}：{value}")
        room = self.MAX_BYTES - len("\n".join([head, *tail]).encode("utf-8")) - 4
        body = "\n".join(_lines(fit_bytes(note.body, room)))
        content = "\n".join(part for part in [head, body, *tail] if part)
        return self.endpoint, {"msgtype": "markdown", "markdown": {"content": content}}


class FeishuChannel(_Robot):
    """飞书 custom bot: a ``post`` (rich text) message, title = subject, one paragraph per body
    line and a link to the alert; ``timestamp`` and ``sign`` in the body when a secret is set."""

    kind = "feishu"
    DEFAULT_BASE = "https://open.feishu.cn"
    MAX_BYTES = 18000  # the bot refuses requests over 20 KB
    PERMANENT = {
        9499: "the bot refused the request as malformed; check url or key",
        19021: "signature refused or timestamp off by more than an hour; check secret and "
               "the server clock",
        19022: "this server's IP is not on the bot's whitelist",
        19024: "the message lacks the bot's required keyword",
    }

    def _path(self, key: str) -> str:
        return f"/open-apis/bot/v2/hook/{key}"

    @staticmethod
    def _code(answer: dict[str, Any]) -> int | None:
        value = answer.get("code", answer.get("StatusCode"))
        return value if isinstance(value, int) else None

    def request(self, note: Notification) -> tuple[str, dict[str, Any]]:
        rows: list[list[dict[str, str]]] = []
        for label, value in note.details():
            if label == "详情链接":
                rows.append([{"tag": "text", "text": f"{label}："},
                             {"tag": "a", "text": "查看详情", "href": value}])
            else:
                rows.append([{"tag": "text", "text": f"{label}：{value}"}])
        room = self.MAX_BYTES - len(json.dumps(rows, ensure_ascii=False).encode("utf-8")) \
            - len(note.subject.encode("utf-8")) - 300
        body = [[{"tag": "text", "text": line}] for line in _lines(fit_bytes(note.body, room))]
        payload: dict[str, Any] = {}
        if self.config.secret is not None:
            timestamp = str(int(time.time()))
            payload["timestamp"] = timestamp
            payload["sign"] = feishu_sign(self.config.secret.get_secret_value(), timestamp)
        payload["msg_type"] = "post"
        payload["content"] = {"post": {"zh_cn": {"title": note.subject, "content": body + rows}}}
        return self.endpoint, payload


def feishu_sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(key="timestamp\\nsecret", msg=b"")), timestamp in seconds."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
