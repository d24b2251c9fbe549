"""The cap on request bodies: :class:`BodyLimit`, an ASGI middleware in front of every route.

A body is read whole into memory (a JSON document, a form), and ``/login`` and ``/api/login``
need no session, so without a cap anyone who reaches the console could make it hold a body of
their choosing. Each body is held to :func:`cap_of` its path, checked before it is read: a
declared ``Content-Length`` over the cap is answered 413 unread, and a body without one (chunked)
is counted as it arrives and refused once it passes the cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.yamlfile import MAX_YAML_BYTES
from yuqing.web.operations import MAX_SOURCES_FORM

__all__ = ["BodyLimit", "BodyTooLarge", "Cap", "MAX_BODY", "MAX_HANDIN_FORM", "BODY_CAPS", "cap_of"]


@dataclass(frozen=True)
class Cap:
    """The most bytes a body may have, and what to do instead (for the person, in the page's words)."""

    size: int
    advice: str = ""


#: the largest body the console reads: a login, a JSON action, a form of notes (4,000 characters
#: percent-encoded as UTF-8 are 36 KB)
MAX_BODY = 64 * 1024
#: the hand-in forms (报送, 信访登记), which carry the text of an item pasted in
MAX_HANDIN_FORM = 1024 * 1024
#: the paths whose forms need more than MAX_BODY
BODY_CAPS = {
    "/sources": Cap(MAX_SOURCES_FORM, f"采集源文件上限 {MAX_YAML_BYTES // 1000} KB，请拆分为多个文件后分别保存"),
    "/intake": Cap(MAX_HANDIN_FORM, "请只粘贴正文的要点，或只填链接"),
    "/intake/petition": Cap(MAX_HANDIN_FORM, "请只填写来信来电的要点"),
}


def cap_of(path: str) -> Cap:
    return BODY_CAPS.get(path) or Cap(MAX_BODY)


class BodyTooLarge(HTTPException):
    """A request body over its cap. An HTTPException, so that FastAPI's body reading lets it through
    (it turns other errors of reading into a 400). ``message`` is for a page, ``detail`` for the API."""

    def __init__(self, cap: Cap):
        super().__init__(413, f"request body too large (at most {cap.size} bytes); not read")
        self.cap = cap
        self.message = f"提交的内容过大（上限 {cap.size // 1024} KB），未予读取" + (f"；{cap.advice}" if cap.advice else "")


class BodyLimit:
    """``app.add_middleware(BodyLimit, refuse=...)``: ``refuse(request, exc)`` builds the 413
    answered when a declared length is over the cap (the app's handler of BodyTooLarge answers
    a body that passes it while read)."""

    def __init__(self, app: ASGIApp, refuse: Callable[[Request, BodyTooLarge], Response]):
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = cap_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 18):
            await Response("bad Content-Length", status_code=400)(scope, receive, send)
            return
        if declared is not None and int(declared) > cap.size:
            await self.refuse(Request(scope), BodyTooLarge(cap))(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap.size:
                    raise BodyTooLarge(cap)
            return message

        await self.app(scope, counted, send)
