"""Reading a request body with a size cap, so a huge or endless body costs little.

A ``Content-Length`` over the cap is refused before anything is read; a streamed (chunked) body is
refused as soon as it passes the cap. Every face reads bodies through here and renders
``BodyTooLarge`` its own way (a JSON error, an OAuth error, an error page, a plain 413).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message, Receive


class BodyTooLarge(HTTPException):
    """The body is larger than ``limit`` bytes: 413 (an HTTPException, so FastAPI's body parsing
    passes it on instead of calling it a malformed body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def check_declared(headers: Headers, limit: int) -> None:
    """Refuse a body whose ``Content-Length`` already says it is over ``limit``."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)


def limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises BodyTooLarge once the body it has passed on exceeds ``limit``."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return limited


async def read_request_body(request: Request, limit: int) -> bytes:
    """The request's whole body, read at most ``limit`` bytes far."""
    check_declared(request.headers, limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


async def buffer_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """The whole body from an ASGI ``receive`` and a ``receive`` that replays it (for middleware
    that must look at a body the app reads after it)."""
    chunks = bytearray()
    trailing: Message | None = None
    while True:
        message = await receive()
        if message["type"] != "http.request":
            trailing = message  # the client went away; the app sees that after the body
            break
        chunks += message.get("body", b"")
        if len(chunks) > limit:
            raise BodyTooLarge(limit)
        if not message.get("more_body", False):
            break
    pending: list[Message] = [{"type": "http.request", "body": bytes(chunks), "more_body": False}]
    if trailing is not None:
        pending.append(trailing)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return bytes(chunks), replay
