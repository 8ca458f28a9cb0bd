"""Client ID Metadata Document fetches cannot be turned into a tool: anyone may name a URL as
``client_id``, so the fetches it triggers are limited, failures are remembered, DNS cannot hold the
server's threads, and the caller learns nothing about what the fetch met.

| attack | what must happen |
|---|---|
| one address names many document URLs (a fetch each) | after ``cimd_fetch_rate_limit`` fetches a minute: 429, no fetch; another address is unaffected; IPv6 counted per /64 |
| the same failing URL again and again | fetched once; the failure is remembered ``cimd_failure_cache_seconds`` |
| hosts whose DNS answer never comes | each request refused within the time limit; the lookups hold a few threads of their own, other lookups go on |
| probing ports and services through the fetch (status codes, connection errors) | one fixed ``invalid_client`` description whatever happened; the details only in the log |

The document server is a real HTTP server on loopback (``tests/oauth/documents.py``).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.hardening.oauth_flow import Pkce
from tests.oauth.documents import DocumentServer, document_server, sleep_then

CALLBACK = "https://client.example/callback"
REFUSED = "The client_id does not name a usable client metadata document."
"""The one description every refused document gets, whatever went wrong."""


@pytest.fixture(scope="module")
async def documents() -> AsyncIterator[DocumentServer]:
    async with document_server() as server:
        yield server


def _context(ctx: AppContext, **overrides: Any) -> AppContext:
    return AppContext(settings=ctx.settings.model_copy(update=overrides), db=ctx.db)


class AuthService:
    """One auth app (so one set of per-process limits), called from any client address."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.app = create_auth_app(ctx)

    def _client(self, address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url=self.ctx.settings.public_url, timeout=30)

    async def authorize(self, client_id: str, address: str = "198.51.100.7") -> httpx.Response:
        params = {
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
            "code_challenge": Pkce.new().challenge, "code_challenge_method": "S256", "state": "s",
        }
        async with self._client(address) as client:
            return await client.get("/oauth/authorize", params=params)

    async def token(self, client_id: str, address: str = "198.51.100.7") -> httpx.Response:
        async with self._client(address) as client:
            return await client.post("/oauth/token", data={
                "grant_type": "authorization_code", "code": "axac_nothing", "client_id": client_id,
                "code_verifier": "v" * 43, "redirect_uri": CALLBACK,
            })


def _page_description(response: httpx.Response) -> str:
    found = re.search(r"<main><h1>[^<]*</h1>\s*<p>([^<]*)</p>", response.text)
    assert found, response.text
    return html.unescape(found.group(1))


# --- a rate limit on fetches per client address ------------------------------------------------------


async def test_fetches_are_limited_per_client_address(ctx: AppContext, documents: DocumentServer) -> None:
    service = AuthService(_context(ctx, cimd_fetch_rate_limit=3))
    urls = [documents.client_document(documents.new_path(), redirect_uris=[CALLBACK]) for _ in range(5)]
    for url in urls[:3]:
        assert (await service.authorize(url)).status_code == 302
    refused = await service.authorize(urls[3])
    assert refused.status_code == 429, refused.text
    assert documents.hits[urls[3].removeprefix(documents.url)] == 0, "over the limit nothing is fetched"
    # A document already fetched is served from the cache: no fetch, so not counted.
    assert (await service.authorize(urls[0])).status_code == 302
    # Another address has its own count.
    assert (await service.authorize(urls[3], address="198.51.100.8")).status_code == 302
    # The token endpoint draws on the same count.
    refused_token = await service.token(urls[4])
    assert refused_token.status_code == 429, refused_token.text
    assert documents.hits[urls[4].removeprefix(documents.url)] == 0


async def test_ipv6_addresses_are_counted_per_64(ctx: AppContext, documents: DocumentServer) -> None:
    service = AuthService(_context(ctx, cimd_fetch_rate_limit=2))
    urls = [documents.client_document(documents.new_path(), redirect_uris=[CALLBACK]) for _ in range(4)]
    assert (await service.authorize(urls[0], address="2001:db8:1:2::1")).status_code == 302
    assert (await service.authorize(urls[1], address="2001:db8:1:2::ffff")).status_code == 302
    over = await service.authorize(urls[2], address="2001:db8:1:2:aaaa::9")  # same /64
    assert over.status_code == 429, over.text
    assert (await service.authorize(urls[2], address="2001:db8:1:3::1")).status_code == 302  # another /64


# --- a negative cache ---------------------------------------------------------------------------------


async def test_a_failed_fetch_is_remembered(ctx: AppContext, documents: DocumentServer) -> None:
    path = documents.new_path()
    documents.serve(path, lambda _: sleep_then(0, Response(b"gone", status_code=404)))
    url = f"{documents.url}{path}"
    service = AuthService(ctx)
    for _ in range(3):
        assert (await service.authorize(url)).status_code == 400
        assert (await service.token(url)).status_code == 401
    assert documents.hits[path] == 1, "a failure must not be retried on every request"

    forgetful = AuthService(_context(ctx, cimd_failure_cache_seconds=0))
    await forgetful.authorize(url)
    await forgetful.authorize(url)
    assert documents.hits[path] == 3, "once the failure is forgotten the document is fetched again"


async def test_a_remembered_failure_does_not_count_against_the_rate_limit(
    ctx: AppContext, documents: DocumentServer
) -> None:
    path = documents.new_path()
    documents.serve(path, lambda _: sleep_then(0, Response(b"gone", status_code=404)))
    service = AuthService(_context(ctx, cimd_fetch_rate_limit=2))
    for _ in range(4):
        assert (await service.authorize(f"{documents.url}{path}")).status_code == 400
    good = documents.client_document(documents.new_path(), redirect_uris=[CALLBACK])
    assert (await service.authorize(good)).status_code == 302


# --- DNS lookups cannot hold the server's threads -------------------------------------------------------


async def test_hanging_dns_lookups_cannot_starve_other_lookups(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``getaddrinfo`` cannot be cancelled: a lookup that never answers keeps its thread. Many such
    hosts must neither hold a request past the time limit nor take the threads other lookups use."""
    release = threading.Event()
    hanging: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".hang.test"):
            hanging.append(name)
            release.wait(60)
            raise socket.gaierror(socket.EAI_AGAIN, "no answer")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    limit = 0.5
    service = AuthService(_context(ctx, cimd_timeout_seconds=limit, cimd_fetch_rate_limit=1000))
    try:
        started = time.monotonic()
        responses = await asyncio.gather(
            *(service.authorize(f"https://h{i}.hang.test/client.json", address=f"198.51.100.{i}") for i in range(40))
        )
        elapsed = time.monotonic() - started
        assert elapsed < limit + 4, f"took {elapsed:.1f} s with a {limit} s limit"
        other = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo("localhost", 80), 3)
        assert other, "other lookups must still be answered"
        assert len(hanging) <= 8, f"{len(hanging)} threads held by hanging lookups; they must be few and bounded"
        for response in responses:
            assert response.status_code == 400, response.text
            assert _page_description(response) == REFUSED
    finally:
        release.set()


# --- one generic error, the details in the log ---------------------------------------------------------


def _answer(response: Response, delay: float = 0.0) -> Any:
    async def answer(_: Request) -> Response:
        return await sleep_then(delay, response)

    return answer


# (id, how the document URL is made, settings, what the log must say)
FAILURES: list[tuple[str, Any, dict[str, Any], str]] = [
    ("http-404", _answer(Response(b"x", status_code=404)), {}, "HTTP 404"),
    ("http-500", _answer(Response(b"x", status_code=500)), {}, "HTTP 500"),
    ("http-401", _answer(Response(b"x", status_code=401)), {}, "HTTP 401"),
    ("redirect", _answer(RedirectResponse("http://10.0.0.1/", status_code=302)), {}, "redirect"),
    ("not-json", _answer(Response(b"<html>", media_type="text/html")), {}, "not JSON"),
    ("timeout", _answer(Response(b"{}"), delay=3.0), {"cimd_timeout_seconds": 0.5}, "timed out"),
    ("closed-port", "http://127.0.0.1:9/client.json", {}, "ConnectError"),
    ("unresolvable", "https://no-such-host.invalid/client.json", {}, "does not resolve"),
    ("non-public", "REWRITE:localhost", {"cimd_allow_private_addresses": False}, "non-public address"),
    ("url-shape", "https://client.example/", {}, "needs a path"),
]


@pytest.mark.parametrize(("how", "overrides", "logged"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
async def test_every_failure_gets_the_same_answer_and_the_details_go_to_the_log(
    ctx: AppContext, documents: DocumentServer, caplog: pytest.LogCaptureFixture,
    how: Any, overrides: dict[str, Any], logged: str,
) -> None:
    if callable(how):
        path = documents.new_path()
        documents.serve(path, how)
        url = f"{documents.url}{path}"
    elif how.startswith("REWRITE:"):
        url = documents.client_document(documents.new_path(), base=documents.url.replace("127.0.0.1", how[8:]))
    else:
        url = how
    service = AuthService(_context(ctx, cimd_failure_cache_seconds=0, **overrides))
    with caplog.at_level(logging.INFO, logger="axiom"):
        page = await service.authorize(url)
        token = await service.token(url)
    assert page.status_code == 400 and "location" not in page.headers
    assert "<code>invalid_client</code>" in page.text
    assert _page_description(page) == REFUSED
    assert token.status_code == 401
    assert token.json() == {"error": "invalid_client", "error_description": REFUSED}
    assert logged in caplog.text, "the reason belongs in the log"
