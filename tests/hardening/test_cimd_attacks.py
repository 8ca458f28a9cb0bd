"""Client ID Metadata Document attacks: the ``client_id`` is a URL the attacker picks, so fetching it
is a server-side request on the attacker's behalf (SSRF) and its content is the attacker's.

| attack | what must happen |
|---|---|
| a loopback/private host spelled so a naive check misses it (``127.1``, ``0x7f.1``, decimal, octal, ``0.0.0.0``, ``localhost``, v4-mapped v6) | refused before any request; the same URL *is* reachable when the guard is off, so the guard is what stopped it |
| private, link-local, CGNAT, multicast, unique-local addresses, and IPv6 forms carrying a private IPv4 one (NAT64, 6to4, Teredo, v4-compatible) | ``is_public_address`` false for every one |
| a public document that redirects (301/302/307/308) to an internal service | refused; the redirect is never followed, the internal service never hit |
| a document larger than the limit (declared, streamed, or one byte over) | refused; a document of exactly the limit is accepted |
| a server that answers slowly or drips its body | refused within the time limit (the whole fetch, not per read) |
| a document whose ``client_id`` is another client's (impersonating Claude) or differs from its URL | refused, nothing stored under either name |

The document server and the stand-in "internal service" are real HTTP servers on loopback; tests
reach them only because settings allow loopback documents (``cimd_allow_private_addresses``, a
switch refused in production), except where the row turns that switch off.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.oauth import cimd
from tests.hardening.oauth_flow import Pkce
from tests.oauth.documents import DocumentServer, document_server

CALLBACK = "https://client.example/callback"
CLAUDE_CIMD = "https://claude.ai/oauth/mcp-oauth-client-metadata"


@pytest.fixture(autouse=True)
def _log_reasons(caplog: pytest.LogCaptureFixture) -> None:
    """The reasons a document is refused are logged (at INFO) and only there."""
    caplog.set_level(logging.INFO, logger="axiom.oauth.cimd")


@pytest.fixture(scope="module")
async def documents() -> AsyncIterator[DocumentServer]:
    async with document_server() as server:
        yield server


@pytest.fixture(scope="module")
async def internal() -> AsyncIterator[DocumentServer]:
    """Stands in for an internal service (a cloud metadata endpoint, an admin port)."""
    async with document_server() as server:
        server.serve_json("/latest/meta-data/iam", {"secret": "internal"})
        yield server


def _settings(ctx: AppContext, **overrides: Any) -> AppContext:
    return AppContext(settings=ctx.settings.model_copy(update=overrides), db=ctx.db)


async def _authorize(ctx: AppContext, client_id: str) -> httpx.Response:
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "code_challenge": Pkce.new().challenge, "code_challenge_method": "S256", "state": "s",
    }
    transport = httpx.ASGITransport(app=create_auth_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url, timeout=30) as client:
        return await client.get("/oauth/authorize", params=params)


def _assert_refused(response: httpx.Response, logged: str, caplog: pytest.LogCaptureFixture) -> None:
    """Refused with the one description every failure gets; what happened is only in the log."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert "<code>invalid_client</code>" in response.text
    assert html.escape(cimd.REFUSED) in response.text
    assert logged in caplog.text


async def _stored(ctx: AppContext, client_id: str) -> int:
    async with ctx.db.session() as session:
        return int(await session.scalar(
            select(func.count()).select_from(OAuthClient).where(OAuthClient.client_id == client_id)
        ) or 0)


# --- SSRF: private addresses, however they are spelled ----------------------------------------------

LOOPBACK_SPELLINGS = [
    ("dotted-short", "127.1", True),
    ("hex", "0x7f.1", True),
    ("decimal", "2130706433", True),
    ("octal", "0177.0.0.1", True),
    ("any-address", "0.0.0.0", True),
    ("name", "localhost", True),
    ("v4-mapped-v6", "[::ffff:127.0.0.1]", False),
]


@pytest.mark.parametrize(("host", "reachable"), [r[1:] for r in LOOPBACK_SPELLINGS], ids=[r[0] for r in LOOPBACK_SPELLINGS])
async def test_private_hosts_are_refused_however_spelled(
    ctx: AppContext, documents: DocumentServer, host: str, reachable: bool
, caplog: pytest.LogCaptureFixture) -> None:
    port = documents.url.rsplit(":", 1)[1]
    path = documents.new_path()
    client_id = documents.client_document(path, base=f"http://{host}:{port}", redirect_uris=[CALLBACK])
    strict = _settings(ctx, cimd_allow_private_addresses=False)

    _assert_refused(await _authorize(strict, client_id), "non-public address", caplog)
    assert documents.hits[path] == 0, "the guard must refuse before connecting"

    if reachable:  # control: the same URL does reach the server when the guard is off
        response = await _authorize(_settings(ctx, cimd_allow_private_addresses=True), client_id)
        assert response.status_code == 302, response.text
        assert documents.hits[path] == 1


NON_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
    "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "2001:db8::1",
    # IPv6 addresses that carry a private IPv4 one a gateway would connect to
    "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808", "2002:a00:1::", "::a00:1", "::127.0.0.1",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_the_address_guard_refuses_every_non_public_range(address: str) -> None:
    assert cimd.is_public_address(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"])
def test_the_address_guard_lets_public_addresses_through(address: str) -> None:
    assert cimd.is_public_address(address) is True


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_to_an_internal_service_is_not_followed(
    ctx: AppContext, documents: DocumentServer, internal: DocumentServer, status: int
, caplog: pytest.LogCaptureFixture) -> None:
    path = documents.new_path()
    target = f"{internal.url}/latest/meta-data/iam"

    async def redirect(_: Request) -> Response:
        return RedirectResponse(target, status_code=status)

    documents.serve(path, redirect)
    before = internal.hits["/latest/meta-data/iam"]

    _assert_refused(await _authorize(ctx, f"{documents.url}{path}"), "redirect", caplog)
    assert documents.hits[path] == 1
    assert internal.hits["/latest/meta-data/iam"] == before, "the internal service must never be reached"


async def test_a_redirect_to_a_valid_document_is_not_followed_either(ctx: AppContext, documents: DocumentServer, caplog: pytest.LogCaptureFixture) -> None:
    """Even a redirect to a document that would pass: the URL that names the client is the one fetched."""
    good_path, moved_path = documents.new_path(), documents.new_path()
    documents.client_document(good_path, redirect_uris=[CALLBACK])

    async def moved(_: Request) -> Response:
        return RedirectResponse(f"{documents.url}{good_path}", status_code=302)

    documents.serve(moved_path, moved)
    _assert_refused(await _authorize(ctx, f"{documents.url}{moved_path}"), "redirect", caplog)
    assert documents.hits[good_path] == 0


# --- size and time limits -------------------------------------------------------------------------


def _document_of_size(client_id: str, size: int) -> bytes:
    base = JSONResponse({"client_id": client_id, "redirect_uris": [CALLBACK], "client_name": ""}).body
    padding = size - len(base)
    assert padding >= 0
    return base[:-1] + b" " * padding + b"}"


@pytest.mark.parametrize(
    ("extra", "declared", "accepted"),
    [(0, True, True), (1, True, False), (1, False, False), (100_000, False, False)],
    ids=["exactly-the-limit", "one-byte-over", "one-byte-over-streamed", "huge-streamed"],
)
async def test_document_size_limit(
    ctx: AppContext, documents: DocumentServer, extra: int, declared: bool, accepted: bool
, caplog: pytest.LogCaptureFixture) -> None:
    path = documents.new_path()
    client_id = f"{documents.url}{path}"
    body = _document_of_size(client_id, ctx.settings.cimd_max_bytes + extra)

    async def answer(_: Request) -> Response:
        if declared:
            return Response(body, media_type="application/json")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1000):
                yield body[start:start + 1000]

        return StreamingResponse(chunks(), media_type="application/json")

    documents.serve(path, answer)
    response = await _authorize(ctx, client_id)
    if accepted:
        assert response.status_code == 302, response.text
    else:
        _assert_refused(response, "larger than", caplog)
        assert await _stored(ctx, client_id) == 0


SLOW_SECONDS = 6
"""How long the slow servers take: far beyond the 0.5 s limit, short enough not to hold up the
document server's shutdown at the end of the module."""


async def _hang(_: Request) -> Response:
    await asyncio.sleep(SLOW_SECONDS)
    return Response(b"{}")


async def _drip(_: Request) -> Response:
    async def slowly() -> AsyncIterator[bytes]:
        yield b'{"client_id": "'
        for _ in range(SLOW_SECONDS * 10):
            await asyncio.sleep(0.1)
            yield b" "

    return StreamingResponse(slowly(), media_type="application/json")


@pytest.mark.parametrize("answer", [_hang, _drip], ids=["no-answer", "body-dripped-byte-by-byte"])
async def test_slow_documents_are_cut_off_at_the_time_limit(ctx: AppContext, documents: DocumentServer, answer: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The limit bounds the whole fetch: a server sending a byte now and then cannot hold it open."""
    path = documents.new_path()
    documents.serve(path, answer)
    limit = 0.5
    started = time.monotonic()
    response = await _authorize(_settings(ctx, cimd_timeout_seconds=limit), f"{documents.url}{path}")
    elapsed = time.monotonic() - started
    _assert_refused(response, "timed out", caplog)
    # Well below what the server would hold it (SLOW_SECONDS); the margin is for a busy machine.
    assert elapsed < limit + 4 < SLOW_SECONDS, f"took {elapsed:.1f} s with a {limit} s limit"


# --- a document describing another client ---------------------------------------------------------

MISMATCHES = [
    ("impersonates-claude", lambda url: CLAUDE_CIMD),
    ("trailing-slash", lambda url: url + "/"),
    ("host-case", lambda url: url.replace("127.0.0.1", "LOCALHOST")),
    ("query-added", lambda url: url + "?x=1"),
    ("not-a-string", lambda url: [url]),
    ("missing", lambda url: None),
]


@pytest.mark.parametrize("claimed", [m for _, m in MISMATCHES], ids=[i for i, _ in MISMATCHES])
async def test_a_document_naming_another_client_is_refused(ctx: AppContext, documents: DocumentServer, claimed: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = documents.new_path()
    url = f"{documents.url}{path}"
    documents.client_document(path, client_id=claimed(url), redirect_uris=[CALLBACK])
    _assert_refused(await _authorize(ctx, url), "differs", caplog)
    assert await _stored(ctx, url) == 0
    assert await _stored(ctx, CLAUDE_CIMD) == 0
