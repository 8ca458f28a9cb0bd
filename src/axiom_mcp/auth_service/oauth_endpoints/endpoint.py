"""What every OAuth endpoint shares: one ASGI app per path, the one place errors are rendered,
CORS, reading the form, and running the core in one transaction.

Every OAuth error is rendered here, in ``render_error``: RFC 6749 JSON (``error``,
``error_description``) on every endpoint, except GET /oauth/authorize, which a browser opens: there
an error the client's verified redirect URI may receive is redirected to it, and any other is
shown as a small HTML page (never redirected). The REST API's PocketBase-style error bodies never
apply here: each endpoint is its own ASGI app, catching everything it raises.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from axiom_mcp.context import AppContext
from axiom_mcp.http_common.body import BodyTooLarge, read_request_body
from axiom_mcp.oauth import cimd, client_auth
from axiom_mcp.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    MethodNotAllowed,
    OAuthError,
    RedirectToClient,
    Revoked,
    ServerError,
)
from axiom_mcp.oauth.params import Params

if TYPE_CHECKING:  # the type of what the core works in; this layer runs no SQL
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("axiom.oauth")

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")

MAX_FORM_BYTES = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
    "Access-Control-Max-Age": "600",
}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# --- rendering errors: the one place -------------------------------------------------------------


def error_page(exc: OAuthError) -> HTMLResponse:
    """What the user sees when the request cannot be sent back to the app (everything escaped)."""
    status = exc.status_code if 400 <= exc.status_code < 600 and exc.status_code != 401 else 400
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>This connection request cannot be used</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f2f2f2;padding:.1rem .3rem}}</style></head>
<body><main><h1>This connection request cannot be used</h1>
<p>{html.escape(exc.description or "The request is not valid.")}</p>
<p>Error code: <code>{html.escape(exc.error)}</code></p>
<p>Go back to the app you were connecting and try again. If it keeps happening, the app's
developer needs to fix its OAuth settings.</p></main></body></html>
"""
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def render_error(exc: OAuthError, *, page: bool) -> Response:
    if isinstance(exc, RedirectToClient):
        return RedirectResponse(exc.redirect_url, status_code=302, headers={"Cache-Control": "no-store"})
    if page:
        return error_page(exc)
    headers = {**NO_STORE, **exc.headers}
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


class OAuthEndpoint:
    """One OAuth path as an ASGI app: dispatches by method and renders whatever it raises."""

    def __init__(self, handlers: dict[str, Handler], *, cors: bool = False, pages: Iterable[str] = ()) -> None:
        self.handlers = handlers
        self.cors = cors
        self.pages = set(pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        method = "GET" if request.method == "HEAD" else request.method
        if self.cors and method == "OPTIONS":
            allowed = ", ".join([*self.handlers, "OPTIONS"])
            response: Response = Response(status_code=204, headers={"Access-Control-Allow-Methods": allowed})
        else:
            try:
                handler = self.handlers.get(method)
                if handler is None:
                    raise MethodNotAllowed([*self.handlers, *(["OPTIONS"] if self.cors else [])])
                response = await handler(request)
            except OAuthError as exc:
                response = render_error(exc, page=method in self.pages)
            except Exception:
                log.exception("OAuth endpoint %s %s failed", request.method, request.url.path)
                response = render_error(ServerError("Something went wrong on our side."), page=method in self.pages)
        if self.cors:
            response.headers.update(CORS_HEADERS)
        await response(scope, receive, send)


# --- request helpers -------------------------------------------------------------------------------


async def read_body(request: Request, limit: int, too_large: type[OAuthError] = InvalidRequest) -> bytes:
    """The body, read at most ``limit`` bytes far (a client cannot make us buffer more)."""
    status = 413 if too_large is InvalidRequest else None
    try:
        return await read_request_body(request, limit)
    except BodyTooLarge:
        raise too_large(f"The request body is larger than {limit} bytes.", status_code=status) from None


async def form_params(request: Request) -> Params:
    """The body's parameters: a form (RFC 6749 appendix B), or, leniently, a JSON object."""
    body = await read_body(request, MAX_FORM_BYTES)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return Params.from_json(body)
    if media_type in ("application/x-www-form-urlencoded", "") or not body:
        return Params.from_query(body)
    raise InvalidRequest("Send the parameters as application/x-www-form-urlencoded.")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def prefetch_client(
    ctx: AppContext, documents: cimd.MetadataDocuments, request: Request, creds: client_auth.ClientCredentials
) -> None:
    """Fetch a Client ID Metadata Document client before the transaction that authenticates it."""
    try:
        await documents.prefetch(ctx.db, creds.client_id, address=client_address(request))
    except InvalidClient as exc:  # answered as client authentication failures are (401)
        raise InvalidClient(exc.description, headers=client_auth.BASIC_CHALLENGE if creds.basic else {}) from exc


def forget(ctx: AppContext, revoked: Iterable[Revoked]) -> None:
    """Make this process's token cache drop what was just revoked."""
    for item in revoked:
        if item.token:
            ctx.tokens.forget_token(item.token)
        elif item.user_id or item.client_id or item.grant_id:
            ctx.tokens.forget(user_id=item.user_id, client_id=item.client_id, grant_id=item.grant_id)


async def in_session(ctx: AppContext, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction. An error that asks for it (a burned code, a revoked chain)
    is raised only after its changes are committed and the token cache has forgotten them."""
    failure: OAuthError | None = None
    async with ctx.db.session() as session:
        try:
            result = await work(session)
        except OAuthError as exc:
            if not exc.commit:
                raise
            failure = exc
    if failure is not None:
        forget(ctx, failure.revoked)
        raise failure
    return result


def json_response(body: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=NO_STORE)
