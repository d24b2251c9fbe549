"""Typed settings of one notification channel, chosen by ``kind``.

``ChannelConfig`` is a union discriminated by ``kind`` (email, dingtalk, wecom, feishu, webhook);
each kind allows only its own keys, so a misplaced ``secret`` on an e-mail channel is reported
instead of ignored. Embed it in a settings model (``channels: list[ChannelConfig]``) or validate
one mapping with :func:`load_channel_config`. Examples::

    - {name: office-mail, kind: email, host: mail.example.gov.cn, security: ssl,
       username: yuqing, password: ..., sender: "舆情系统 <yuqing@example.gov.cn>",
       to: [xcb@example.gov.cn]}
    - {name: xcb-dingtalk, kind: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=...",
       secret: SEC...}
    - {name: xfs-wecom, kind: wecom, key: 693a91f6-...}               # qyapi.weixin.qq.com
    - {name: ops-feishu, kind: feishu, key: 5e3d587e-..., base_url: https://open.larksuite.com}
    - {name: oa, kind: webhook, url: https://oa.example.gov.cn/api/alerts, headers: {X-Token: ...}}

A chat robot is given either by the ``url`` its settings page shows, or by its ``key`` (钉钉
access_token, 企业微信 key, 飞书 hook token) plus ``base_url`` when the service is not the vendor's
public one (政务钉钉 and other private deployments). URLs and keys are secrets: they are never
printed, and messages name only ``scheme://host``.
"""

from __future__ import annotations

import difflib
import re
from email.utils import parseaddr
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError,
                      WrapValidator, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pipeline.errors import ConfigError
from pipeline.yamlfile import PATTERN_WORDS

__all__ = ["ChannelConfig", "DingTalkConfig", "EmailConfig", "FeishuConfig", "WeComConfig",
           "WebhookConfig", "KINDS", "load_channel_config"]

KINDS = ("email", "dingtalk", "wecom", "feishu", "webhook")
_NAME = r"^[a-z0-9][a-z0-9_-]*$"
PATTERN_WORDS[_NAME] = "lower-case letters, digits, '_' and '-' (a channel name)"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _http_url(value: str, what: str) -> str:
    if not re.match(r"^https?://[^/?#\s]+", value):
        raise ValueError(f"{what} must start with http:// or https:// and name a host")
    return value


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME, description="unique; keys logs, metrics and the outbox")
    timeout_s: float = Field(default=10.0, gt=0, le=120,
                             description="limit of each network call of one send")


class EmailConfig(_Channel):
    """E-mail over SMTP. ``security``: ``starttls`` (port 587 by default), ``ssl`` (implicit TLS,
    465) or ``none`` (25; only for a relay inside the office network)."""

    kind: Literal["email"]
    host: str = Field(min_length=1, description="SMTP server")
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(description='From: "name <address>" or an address')
    to: list[str] = Field(min_length=1, description="recipient addresses")
    verify_tls: bool = True

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _ADDRESS.match(parseaddr(value)[1]):
            raise ValueError(f"{value!r} is not an e-mail address (name <user@host> or user@host)")
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ADDRESS.match(parseaddr(v)[1])]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(map(repr, bad))}")
        return value

    @model_validator(mode="after")
    def _login(self) -> "EmailConfig":
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither (no SMTP login)")
        if self.username is not None and not (
                self.username.isascii() and self.password.get_secret_value().isascii()):
            # smtplib encodes AUTH in ASCII only: say so at start, not at the first alert
            raise ValueError("username and password must be ASCII for SMTP login; "
                             "ask the mail administrator for an ASCII password")
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


class _Robot(_Channel):
    url: SecretStr | None = Field(default=None, description="the webhook URL the robot's page shows")
    key: SecretStr | None = Field(default=None, description="the token part of that URL")
    base_url: str | None = Field(default=None, description="scheme://host of a private deployment")
    verify_tls: bool = True

    @model_validator(mode="after")
    def _url_or_key(self) -> "_Robot":
        if (self.url is None) == (self.key is None):
            raise ValueError("give either url (the robot's webhook URL) or key, not both or neither")
        if self.url is not None:
            _http_url(self.url.get_secret_value(), "url")
            if self.base_url is not None:
                raise ValueError("base_url goes with key; a url already names its host")
        if self.base_url is not None:
            _http_url(self.base_url, "base_url")
        return self


class DingTalkConfig(_Robot):
    """钉钉 custom robot. ``secret``: the 加签 secret (SEC...), if the robot has one."""

    kind: Literal["dingtalk"]
    secret: SecretStr | None = None


class WeComConfig(_Robot):
    """企业微信 group robot (no signing: its key is the only credential)."""

    kind: Literal["wecom"]


class FeishuConfig(_Robot):
    """飞书 / Lark custom bot. ``secret``: the 签名校验 secret, if set on the bot."""

    kind: Literal["feishu"]
    secret: SecretStr | None = None


class WebhookConfig(_Channel):
    """Any HTTP endpoint that takes a JSON POST (Apprise's JSON format, see webhook.py)."""

    kind: Literal["webhook"]
    url: SecretStr = Field(description="http(s)://[user:password@]host[:port]/path[?query]")
    headers: dict[str, str] = Field(default_factory=dict, description="e.g. an Authorization token")
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        _http_url(value.get_secret_value(), "url")
        return value


_MODELS = {"email": EmailConfig, "dingtalk": DingTalkConfig, "wecom": WeComConfig,
           "feishu": FeishuConfig, "webhook": WebhookConfig}


def _readable(value: Any, handler: Any) -> Any:
    """Validate, then restate pydantic's errors so they read well wherever they are printed
    (here, or by pipeline.yamlfile inside a larger settings file): the kind pydantic puts in
    front of each location goes, so the location is the YAML key's own; an unknown kind or key
    gets the nearest valid one and the list of allowed keys of *this* kind."""
    try:
        return handler(value)
    except ValidationError as exc:
        kind = value.get("kind") if isinstance(value, Mapping) else None
        details = [_restate(err, kind) for err in exc.errors()]
        raise ValidationError.from_exception_data(exc.title, details) from None


def _restate(err: Any, kind: Any) -> InitErrorDetails:
    loc = tuple(err["loc"])
    if loc and loc[0] in KINDS:
        loc = loc[1:]
    error_type = err["type"]
    if error_type == "union_tag_not_found":
        return _custom(("kind",), err, f"required; one of {', '.join(KINDS)}")
    if error_type == "union_tag_invalid":
        given = str(err["ctx"]["tag"])
        hint = difflib.get_close_matches(given, KINDS, n=1)
        return _custom(("kind",), err, f"{given!r} is not a channel kind"
                       + (f"; did you mean {hint[0]!r}?" if hint else "")
                       + f" Use one of {', '.join(KINDS)}")
    if error_type == "extra_forbidden":
        model = _MODELS[kind]
        allowed = [name for name, f in model.model_fields.items() if not f.exclude]
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return _custom(loc, err, "unknown key" + (f"; did you mean {hint[0]!r}?" if hint else "")
                       + f" Allowed for {kind}: {', '.join(allowed)}")
    details: dict[str, Any] = {"type": error_type, "loc": loc, "input": err["input"]}
    if "ctx" in err:
        details["ctx"] = err["ctx"]
    return details  # type: ignore[return-value]


def _custom(loc: tuple, err: Any, message: str) -> InitErrorDetails:
    return {"type": PydanticCustomError("channel_config", "{message}", {"message": message}),
            "loc": loc, "input": err["input"]}


#: One channel's settings, any kind; ``kind`` picks the model.
ChannelConfig = Annotated[
    Annotated[Union[EmailConfig, DingTalkConfig, WeComConfig, FeishuConfig, WebhookConfig],
              Field(discriminator="kind")],
    WrapValidator(_readable),
]

_ADAPTER: TypeAdapter = TypeAdapter(ChannelConfig)


def load_channel_config(data: Mapping[str, Any], where: str = "channel") -> ChannelConfig:
    """Validate one channel's settings; raises :class:`ConfigError` with one
    ``WHERE (KIND): key: problem`` line per mistake (``where`` names the file or list entry)."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        kind = data.get("kind") if isinstance(data, Mapping) else None
        prefix = f"{where} ({kind})" if kind in KINDS else where
        raise ConfigError([f"{prefix}: {line}" for line in _lines(exc)]) from None


def _lines(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "missing":
            message = "required but missing"
        elif err["type"] == "string_pattern_mismatch":
            pattern = err["ctx"]["pattern"]
            message = f"{err['input']!r} is not allowed; use {PATTERN_WORDS.get(pattern, pattern)}"
        else:
            message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{key}: {message}" if key else message)
    return lines
