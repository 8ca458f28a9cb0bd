"""A cap on request body size for the REST API, answered as the API's JSON error (not plain text).

Starlette's own limiter (FastAPI's ``max_body_size``) replies ``text/plain``; clients of this API
expect every error as ``{"status", "message", "data"}``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from axiom_mcp.auth_service.rest_api.errors import error_body
from axiom_mcp.http_common.body import BodyTooLarge, check_declared, limited_receive

MAX_BODY_BYTES = 2 * 1024 * 1024
"""The largest valid record is ~100 kB of text (~600 kB with every character JSON-escaped)."""

TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."


class BodyLimit:
    """Refuse bodies over ``max_bytes`` under ``prefix``: at once when Content-Length says so,
    else as soon as the streamed body passes the limit (FastAPI re-raises BodyTooLarge, an HTTPException).
    ``streamed(method, path)`` names the requests that enforce limits of their own (file uploads)."""

    def __init__(self, app: ASGIApp, *, prefix: str, max_bytes: int = MAX_BODY_BYTES,
                 streamed: Callable[[str, str], bool] | None = None) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (scope["type"] != "http" or not path.startswith(self.prefix)
                or (self.streamed is not None and self.streamed(scope["method"], path))):
            await self.app(scope, receive, send)
            return
        try:
            check_declared(Headers(scope=scope), self.max_bytes)
        except BodyTooLarge:
            data = {"body": {"code": "too_large", "message": TOO_LARGE}}
            await JSONResponse(error_body(413, TOO_LARGE, data), 413)(scope, receive, send)
            return
        await self.app(scope, limited_receive(receive, self.max_bytes), send)
