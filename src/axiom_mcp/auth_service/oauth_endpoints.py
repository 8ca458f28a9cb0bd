"""The OAuth endpoints over HTTP: a thin layer over ``axiom_mcp.oauth`` on the auth service.

Every OAuth error is rendered here, in ``render_error``: RFC 6749 JSON (``error``,
``error_description``) on every endpoint, except GET /oauth/authorize, which a browser opens: there
an error the client's verified redirect URI may receive is redirected to it, and any other is
shown as a small HTML page (never redirected). The REST API's PocketBase-style error bodies never
apply here: each endpoint is its own ASGI app, catching everything it raises.

Endpoints (none under /api/v1): ``/.well-known/oauth-authorization-server[/issuer-path]`` (RFC
8414), ``/oauth/register`` (RFC 7591), ``/oauth/authorize`` GET and POST, ``/oauth/token``,
``/oauth/revoke`` (RFC 7009), ``/oauth/introspect`` (RFC 7662), ``/oauth/validate`` (the seed's).
CORS (no credentials) is allowed on metadata, registration, token and revocation, which browser
based MCP clients call; these use no cookies, so a cross-origin caller gains nothing curl lacks.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from axiom_mcp.auth_service.rest_api.auth import bearer_token
from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, TokenInfo
from axiom_mcp.db.tables import OAuthAccessToken
from axiom_mcp.oauth import authorize, cimd, client_auth, introspect, registration, revoke, token
from axiom_mcp.oauth.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidRequest,
    InvalidToken,
    MethodNotAllowed,
    OAuthError,
    RedirectToClient,
    Revoked,
    ServerError,
)
from axiom_mcp.oauth.metadata import authorization_server_metadata, metadata_paths
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.ratelimit import RateLimiter

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
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(f"The request body is larger than {limit} bytes.", status_code=status)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(f"The request body is larger than {limit} bytes.", status_code=status)
    return bytes(body)


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


# --- endpoints -----------------------------------------------------------------------------------


def build_oauth_routes(ctx: AppContext) -> list[BaseRoute]:
    settings = ctx.settings
    registrations = RateLimiter(settings.registration_rate_limit, 60.0)

    async def prefetch_client(creds: client_auth.ClientCredentials) -> None:
        try:
            await cimd.prefetch(ctx.db, settings, creds.client_id)
        except InvalidClient as exc:  # answered as client authentication failures are (401)
            raise InvalidClient(exc.description, headers=client_auth.BASIC_CHALLENGE if creds.basic else {}) from exc

    async def metadata(_: Request) -> Response:
        return JSONResponse(authorization_server_metadata(settings), headers={"Cache-Control": "public, max-age=300"})

    async def register(request: Request) -> Response:
        address = client_address(request)
        registrations.hit(address, "client registrations")
        body = await read_body(request, registration.MAX_REGISTRATION_BYTES, InvalidClientMetadata)
        info = await in_session(ctx, lambda s: registration.register(s, body, address=address))
        return json_response(info, 201)

    async def authorize_get(request: Request) -> Response:
        params = Params.from_query(request.url.query)
        await cimd.prefetch(ctx.db, settings, params.get("client_id"))
        request_id = await in_session(ctx, lambda s: authorize.start(s, settings, params))
        return RedirectResponse(
            authorize.consent_url(settings, request_id), status_code=302, headers={"Cache-Control": "no-store"}
        )

    async def first_party_user(request: Request) -> TokenInfo:
        """The user behind a token from POST /api/v1/auth/login: only our own login may approve."""
        raw = bearer_token(request)
        info = await ctx.tokens.verify(raw) if raw else None
        if info is None or info.resource != settings.api_resource or info.client_id != FIRST_PARTY_CLIENT_ID:
            raise InvalidToken(
                "Send the token from POST /api/v1/auth/login as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return info

    async def authorize_post(request: Request) -> Response:
        """The seed's POST /oauth/authorize: a signed-in user's answer to a pending request."""
        user = await first_party_user(request)
        params = await form_params(request)
        request_id, decision = params.get("request_id"), params.get("decision")
        if request_id is None or decision not in ("allow", "deny"):
            raise InvalidRequest('Send request_id and decision ("allow" or "deny").')
        if decision == "allow":
            async def allow(session: AsyncSession) -> str:
                # The token's issue is this user's last login: what prompt=login is checked against.
                issued = await session.scalar(
                    select(OAuthAccessToken.created).where(OAuthAccessToken.id == user.token_id)
                )
                long_ago = datetime.min.replace(tzinfo=UTC)  # the token vanished since: not a fresh login
                return await authorize.approve(
                    session, settings, request_id, user.user_id, authenticated_at=issued or long_ago
                )

            url = await in_session(ctx, allow)
        else:
            url = await in_session(ctx, lambda s: authorize.deny(s, settings, request_id))
        return json_response({"redirect_url": url})

    async def token_endpoint(request: Request) -> Response:
        params = await form_params(request)
        creds = client_auth.credentials(request.headers.get("authorization"), params)
        await prefetch_client(creds)

        async def work(session: AsyncSession) -> token.TokenResponse:
            client = await client_auth.authenticate(session, settings, creds)
            return await token.token(session, settings, client, params)

        result = await in_session(ctx, work)
        forget(ctx, result.revoked)
        return json_response(result.body)

    async def revoke_endpoint(request: Request) -> Response:
        params = await form_params(request)
        creds = client_auth.credentials(request.headers.get("authorization"), params)
        if creds.client_id == FIRST_PARTY_CLIENT_ID and creds.secret is None:
            forget(ctx, await in_session(ctx, lambda s: revoke.revoke_api_token(s, params)))
            return Response(status_code=200, headers=NO_STORE)
        await prefetch_client(creds)

        async def work(session: AsyncSession) -> list[Revoked]:
            client = await client_auth.authenticate(session, settings, creds)
            return await revoke.revoke(session, client, params)

        forget(ctx, await in_session(ctx, work))
        return Response(status_code=200, headers=NO_STORE)

    async def introspect_endpoint(request: Request) -> Response:
        params = await form_params(request)
        authorization = request.headers.get("authorization", "")
        bearer: TokenInfo | None = None
        if authorization.lower().startswith("bearer "):
            bearer = await ctx.tokens.verify(bearer_token(request) or "")
            if bearer is None:
                raise InvalidToken(
                    "The bearer token is invalid.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
        creds = None if bearer else client_auth.credentials(authorization, params)
        if creds is not None:
            await prefetch_client(creds)

        async def work(session: AsyncSession) -> dict[str, Any]:
            if creds is None:
                assert bearer is not None
                asker = introspect.Asker(bearer.client_id, bearer.user_id)
            else:
                client = await client_auth.authenticate(session, settings, creds)
                if not client.is_confidential:
                    raise InvalidClient(
                        "Introspection needs a confidential client's credentials or a bearer token.",
                        headers=client_auth.BASIC_CHALLENGE,
                    )
                asker = introspect.Asker(client.client_id)
            return await introspect.introspect(session, settings, params, asker)

        return json_response(await in_session(ctx, work))

    async def validate(request: Request) -> Response:
        params = await form_params(request)
        raw = bearer_token(request) or params.get("token") or params.get("access_token")
        info = await ctx.tokens.verify(raw) if raw else None
        if info is None:
            raise InvalidToken("The token is invalid, expired or revoked.")
        return json_response(introspect.validation(settings, info))

    metadata_endpoint = OAuthEndpoint({"GET": metadata}, cors=True)
    routes: list[BaseRoute] = [Route(path, metadata_endpoint) for path in metadata_paths(settings)]
    routes += [
        Route("/oauth/register", OAuthEndpoint({"POST": register}, cors=True)),
        Route("/oauth/authorize", OAuthEndpoint({"GET": authorize_get, "POST": authorize_post}, pages=["GET"])),
        Route("/oauth/token", OAuthEndpoint({"POST": token_endpoint}, cors=True)),
        Route("/oauth/revoke", OAuthEndpoint({"POST": revoke_endpoint}, cors=True)),
        Route("/oauth/introspect", OAuthEndpoint({"POST": introspect_endpoint})),
        Route("/oauth/validate", OAuthEndpoint({"POST": validate})),
    ]
    return routes


def install_oauth_routes(app: Starlette, ctx: AppContext) -> None:
    """Add the OAuth endpoints to the auth service's app (outside /api/v1, with their own errors)."""
    app.router.routes.extend(build_oauth_routes(ctx))
