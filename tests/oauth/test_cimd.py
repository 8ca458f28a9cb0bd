"""Client ID Metadata Documents: fetched from a real local server, SSRF-guarded, cached, validated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.oauth import authorize, cimd
from axiom_mcp.oauth.clients import ClientInfo, find_client
from axiom_mcp.oauth.errors import OAuthError
from tests.oauth.documents import DocumentServer, document_server, sleep_then
from tests.oauth.helpers import authorize_query, pkce, query_of, with_settings
from tests.support.factories import TestUser

CALLBACK = "https://client.example/callback"


@pytest.fixture(scope="session")
async def documents() -> AsyncIterator[DocumentServer]:
    async with document_server() as server:
        yield server


async def _authorize(ctx: AppContext, client_id: str, **extra: str) -> httpx.Response:
    app = create_auth_app(ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        params = authorize_query(client_id, pkce().challenge, **{"redirect_uri": CALLBACK, **extra})
        return await client.get("/oauth/authorize", params=params)


async def test_a_document_client_connects(api: httpx.AsyncClient, ctx: AppContext, documents: DocumentServer,
                                          account: TestUser) -> None:
    path = documents.new_path()
    client_id = documents.client_document(path, client_name="Claude", client_uri="https://claude.ai")
    pair = pkce()
    response = await api.get("/oauth/authorize", params=authorize_query(client_id, pair.challenge,
                                                                       redirect_uri=CALLBACK))
    assert response.status_code == 302, response.text
    request_id = query_of(response.headers["location"])["request_id"]
    async with ctx.db.session() as session:
        pending = await authorize.load_pending(session, ctx.settings, request_id)
        assert (pending.client_source, pending.client_name, pending.client_uri) == ("cimd", "Claude", "https://claude.ai")
        code = query_of(await authorize.approve(session, ctx.settings, request_id, account.id))["code"]
    token = await api.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id, "code_verifier": pair.verifier,
        "redirect_uri": CALLBACK})
    assert token.status_code == 200, token.text
    assert "refresh_token" in token.json()
    # Loopback redirect URIs in a document follow the RFC 8252 port rule too.
    loopback = await api.get("/oauth/authorize", params=authorize_query(
        client_id, pair.challenge, redirect_uri="http://127.0.0.1:41234/callback"))
    assert loopback.status_code == 302
    assert documents.hits[path] == 1  # cached for the second request


async def resolve(ctx: AppContext, client_id: str) -> ClientInfo:
    """What the endpoints do: bring the document up to date, then look the client up in a transaction."""
    await cimd.MetadataDocuments(ctx.settings).prefetch(ctx.db, client_id, address="192.0.2.1")
    async with ctx.db.session() as session:
        return await find_client(session, ctx.settings, client_id)


async def test_documents_are_cached_then_refetched(ctx: AppContext, documents: DocumentServer) -> None:
    path = documents.new_path()
    client_id = documents.client_document(path, client_name="First")
    assert (await resolve(ctx, client_id)).name == "First"
    documents.client_document(path, client_name="Second")
    assert (await resolve(ctx, client_id)).name == "First"
    assert documents.hits[path] == 1
    stale = with_settings(ctx, cimd_cache_seconds=0)
    assert (await resolve(stale, client_id)).name == "Second"
    assert documents.hits[path] == 2


async def test_the_connection_goes_to_the_checked_address_under_the_documents_host(
    ctx: AppContext, documents: DocumentServer
) -> None:
    path = documents.new_path()
    base = documents.url.replace("127.0.0.1", "localhost")
    client_id = documents.client_document(path, base=base)
    await resolve(ctx, client_id)
    assert documents.hosts[path] == base.removeprefix("http://")


def _large(size: int, *, declared: bool) -> Any:
    async def answer(_: Request) -> Response:
        if declared:
            return Response(b"{" + b" " * size + b"}", media_type="application/json")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(size // 1000 + 1):
                yield b" " * 1000

        return StreamingResponse(chunks(), media_type="application/json")

    return answer


def _fixed(response: Response, delay: float = 0.0) -> Any:
    async def answer(_: Request) -> Response:
        return await sleep_then(delay, response)

    return answer


# (id, how the server answers, the reason logged must mention; the caller sees only cimd.REFUSED)
BAD_DOCUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("client-id-mismatch", {"fields": {"client_id": "https://other.example/meta.json"}}, "differs"),
    ("no-redirect-uris", {"fields": {"redirect_uris": None}}, "redirect_uris"),
    ("javascript-redirect", {"fields": {"redirect_uris": ["javascript:alert(1)"]}}, "redirect_uris"),
    ("secret-auth-method", {"fields": {"token_endpoint_auth_method": "client_secret_basic"}}, "none"),
    ("carries-a-secret", {"fields": {"client_secret": "s3cret"}}, "none"),
    ("no-code-grant", {"fields": {"grant_types": ["client_credentials"]}}, "authorization_code"),
    ("not-json", {"answer": _fixed(Response(b"<html>", media_type="text/html"))}, "not JSON"),
    ("json-array", {"answer": _fixed(Response(b"[1, 2]", media_type="application/json"))}, "JSON object"),
    ("too-large-declared", {"answer": _large(6000, declared=True)}, "larger than"),
    ("too-large-streamed", {"answer": _large(6000, declared=False)}, "larger than"),
    ("not-found", {"answer": _fixed(Response(b"{}", status_code=404))}, "HTTP 404"),
    ("redirect", {"answer": _fixed(RedirectResponse("/clients/elsewhere.json", status_code=302))}, "redirect"),
    ("slow", {"answer": _fixed(Response(b"{}"), delay=3.0), "timeout": 1.0}, "timed out"),
]


@pytest.mark.parametrize(("how", "mentions"), [r[1:] for r in BAD_DOCUMENTS], ids=[r[0] for r in BAD_DOCUMENTS])
async def test_bad_documents_are_refused(ctx: AppContext, documents: DocumentServer, how: dict[str, Any],
                                         mentions: str) -> None:
    path = documents.new_path()
    client_id = f"{documents.url}{path}"
    if "fields" in how:
        documents.client_document(path, **how["fields"])
    else:
        documents.serve(path, how["answer"])
    slow = with_settings(ctx, cimd_timeout_seconds=how.get("timeout", ctx.settings.cimd_timeout_seconds))
    with pytest.raises(cimd.DocumentRefused) as caught:
        await resolve(slow, client_id)
    assert caught.value.error == "invalid_client"
    assert caught.value.description == cimd.REFUSED
    assert mentions in caught.value.reason
    assert documents.hits["/clients/elsewhere.json"] == 0  # no redirect was followed


async def test_a_refused_document_is_shown_not_redirected(ctx: AppContext, documents: DocumentServer) -> None:
    path = documents.new_path()
    documents.client_document(path, client_id="https://other.example/meta.json")
    response = await _authorize(ctx, f"{documents.url}{path}")
    assert response.status_code == 400 and "location" not in response.headers
    assert "<code>invalid_client</code>" in response.text


async def test_redirect_uri_outside_the_document_is_shown(ctx: AppContext, documents: DocumentServer) -> None:
    client_id = documents.client_document(documents.new_path())
    response = await _authorize(ctx, client_id, redirect_uri="https://evil.example/callback")
    assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize(
    ("host", "settings"),
    [
        ("127.0.0.1", {"cimd_allow_private_addresses": False}),
        ("localhost", {"cimd_allow_private_addresses": False}),
        ("127.0.0.1", {"cimd_allow_http": False}),
    ],
    ids=["loopback-address", "name-resolving-to-loopback", "http-outside-tests"],
)
async def test_ssrf_guards_refuse_before_any_request(ctx: AppContext, documents: DocumentServer, host: str,
                                                     settings: dict[str, bool]) -> None:
    path = documents.new_path()
    client_id = documents.client_document(path, base=documents.url.replace("127.0.0.1", host))
    strict = with_settings(ctx, **settings)
    response = await _authorize(strict, client_id)
    assert response.status_code == 400 and "location" not in response.headers
    assert "<code>invalid_client</code>" in response.text
    assert documents.hits[path] == 0


async def test_unresolvable_hosts_are_refused(ctx: AppContext) -> None:
    with pytest.raises(OAuthError) as caught:
        await resolve(ctx, "https://no-such-host.invalid/client.json")
    assert caught.value.error == "invalid_client"
