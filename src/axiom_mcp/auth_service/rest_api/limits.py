"""A cap on request body size for the REST API, answered as the API's JSON error (not plain text).

Starlette's own limiter (FastAPI's ``max_body_size``) replies ``text/plain``; clients of this API
expect every error as ``{"status", "message", "data"}``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axiom_mcp.auth_service.rest_api.errors import error_body

MAX_BODY_BYTES = 2 * 1024 * 1024
"""The largest valid record is ~100 kB of text (~600 kB with every character JSON-escaped)."""

TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."


class BodyLimit:
    """Refuse bodies over ``max_bytes`` under ``prefix``: at once when Content-Length says so,
    else as soon as the streamed body passes the limit (FastAPI re-raises the HTTPException)."""

    def __init__(self, app: ASGIApp, *, prefix: str, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            data = {"body": {"code": "too_large", "message": TOO_LARGE}}
            await JSONResponse(error_body(413, TOO_LARGE, data), 413)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited, send)
