"""Recording what OAuth apps do through the REST API (the Connected apps page shows it).

Every request under ``/api/v1/user/`` made with an OAuth app's token becomes one action: the route
(``GET /api/v1/user/items/{record_id}``), the record ids in its path, and the outcome from the
status. The API's own login tokens (the person themself) are not apps and are not recorded.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axiom_mcp.data.activity import Action, ActivityLog
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, TokenInfo

TOKEN_STATE = "oauth_token"
"""Where ``require_scope`` leaves the verified token in the request's state."""

ERRORS = {
    400: "invalid_request", 401: "invalid_token", 403: "insufficient_scope", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid_request", 429: "rate_limited",
}


def error_of(status: int) -> str | None:
    if status < 400:
        return None
    return ERRORS.get(status, "server_error" if status >= 500 else "error")


class RecordActivity:
    """ASGI middleware: one ``Action`` per REST call made with an OAuth app's token under ``prefix``."""

    def __init__(self, app: ASGIApp, *, activity: ActivityLog, prefix: str = "/api/v1/user/") -> None:
        self.app = app
        self.activity = activity
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            token = scope.get("state", {}).get(TOKEN_STATE)
            if isinstance(token, TokenInfo) and token.client_id != FIRST_PARTY_CLIENT_ID:
                route = scope.get("route")
                template = getattr(route, "path_format", None) or scope.get("path", "")
                ids = tuple(str(v) for v in scope.get("path_params", {}).values())
                self.activity.record(Action(
                    token.user_id, token.client_id, "rest", f"{scope['method']} {template}", ids,
                    ok=status < 400, error=error_of(status),
                ))
