"""A client that connects the way ChatGPT does, with a person in a real browser.

The ``mcp`` SDK's ``OAuthClientProvider`` finds the authorization server from the MCP endpoint's
401 (RFC 9728 metadata, then RFC 8414), registers itself (RFC 7591), and hands the authorization
URL to its redirect handler. Here that handler is a person at Chromium: they sign in on the web
app's login page and press Allow on the consent page; the browser then lands on the client's
loopback callback server with the code, which the provider exchanges (PKCE) for tokens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from playwright.async_api import Browser
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.support.oauth_client import MemoryStorage
from tests.support.servers import running

CLIENT_NAME = "E2E ChatGPT-like connector"


@dataclass
class Person:
    """Someone with an account, at a browser."""

    email: str
    password: str
    browser: Browser
    callback_url: str = ""
    codes: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    _result: asyncio.Future[AuthorizationCodeResult] | None = None

    async def open_authorization_url(self, url: str) -> None:
        """The provider's redirect handler: sign in, allow, and land on the client's callback."""
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        context = await self.browser.new_context()
        context.set_default_timeout(60_000)
        try:
            page = await context.new_page()
            await page.goto(url)
            self.pages.append(page.url.split("?")[0])
            if urlsplit(page.url).path == "/auth":  # not signed in yet: the login page
                await page.get_by_label("Email").fill(self.email)
                await page.get_by_label("Password").fill(self.password)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url("**/oauth/consent**")
            self.pages.append(page.url.split("?")[0])
            await page.get_by_text(CLIENT_NAME).first.wait_for()
            await page.get_by_role("button", name="Allow").click()
            await page.wait_for_url(f"{self.callback_url}**")
            await asyncio.wait_for(asyncio.shield(self._result), timeout=60)
        finally:
            await context.close()

    async def wait_for_code(self) -> AuthorizationCodeResult:
        """The provider's callback handler: what the browser brought to the callback server."""
        assert self._result is not None
        return await asyncio.wait_for(self._result, timeout=120)

    async def callback(self, request: Request) -> HTMLResponse:
        params = request.query_params
        if self._result is not None and not self._result.done():
            if "code" in params:
                self.codes.append(params["code"])
                self._result.set_result(
                    AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))
                )
            else:
                self._result.set_exception(AssertionError(f"authorization failed: {dict(params)}"))
        return HTMLResponse("<p>Connected. You can close this window.</p>")

    @asynccontextmanager
    async def callback_server(self) -> AsyncIterator[str]:
        app = Starlette(routes=[Route("/callback", self.callback)])
        async with running(app) as base:
            self.callback_url = f"{base}/callback"
            yield self.callback_url


@dataclass
class Journey:
    """What one connection did and saw, for the test to check."""

    tool_names: list[str] = field(default_factory=list)
    access_token: str = ""
    """The last access token (for the MCP resource), still valid when the journey ends."""
    secrets: list[str] = field(default_factory=list)
    """Every token and code that passed: none of them may appear in a server log."""


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


@asynccontextmanager
async def connected(mcp_endpoint: str, person: Person, storage: MemoryStorage, *, mode: str) -> AsyncIterator[Client]:
    """An SDK client connected to ``mcp_endpoint`` with OAuth; the first request triggers the flow."""
    async with person.callback_server() as callback_url:
        provider = OAuthClientProvider(
            server_url=mcp_endpoint,
            client_metadata=OAuthClientMetadata(
                client_name=CLIENT_NAME,
                redirect_uris=[callback_url],  # type: ignore[list-item]
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
            ),
            storage=storage,
            redirect_handler=person.open_authorization_url,
            callback_handler=person.wait_for_code,
        )
        timeout = httpx2.Timeout(60, read=120)
        async with httpx2.AsyncClient(auth=provider, timeout=timeout) as http:
            async with Client(streamable_http_client(mcp_endpoint, http_client=http), mode=mode) as client:
                client.provider = provider  # type: ignore[attr-defined]  # for the refresh step
                yield client


async def use_like_chatgpt(mcp_endpoint: str, person: Person, *, mode: str = "auto") -> Journey:
    """Connect, list the tools, create an item with tags, read, update and delete it, refresh the token."""
    journey = Journey()
    storage = MemoryStorage()
    async with connected(mcp_endpoint, person, storage, mode=mode) as client:
        assert person.codes, "the OAuth flow did not run through the browser"
        tools = await client.list_tools()
        journey.tool_names = sorted(tool.name for tool in tools.tools)

        profile = _data(await client.call_tool("get_user_profile", {}))
        assert profile["email"] == person.email

        tag = _data(await client.call_tool("create_user_tag", {"name": "e2e-urgent"}))
        other = _data(await client.call_tool("create_user_tag", {"name": "e2e-home"}))
        item = _data(
            await client.call_tool(
                "create_user_item", {"name": "E2E first item", "content": "made by the e2e test", "tags": [tag["id"]]}
            )
        )
        read = _data(await client.call_tool("get_user_item", {"id": item["id"]}))
        assert read["name"] == "E2E first item"
        assert read["tags"] == [tag["id"]]
        assert [t["name"] for t in read["expand"]["tags"]] == ["e2e-urgent"]

        listed = _data(await client.call_tool("get_user_items", {"search": "E2E first"}))
        assert [entry["id"] for entry in listed["items"]] == [item["id"]]

        updated = _data(
            await client.call_tool(
                "update_user_item", {"id": item["id"], "name": "E2E renamed", "tags": [tag["id"], other["id"]]}
            )
        )
        assert updated["name"] == "E2E renamed"
        assert sorted(updated["tags"]) == sorted([tag["id"], other["id"]])

        deleted = _data(await client.call_tool("delete_user_item", {"id": item["id"]}))
        assert deleted["id"] == item["id"]
        gone = await client.call_tool("get_user_item", {"id": item["id"]})
        assert gone.is_error

        # Refresh: the access token is treated as expired, so the provider uses its refresh token
        # before the next request; the server rotates both, and the call goes through on the new one.
        first = storage.tokens
        assert first is not None and first.refresh_token, "no refresh token: offline_access was not granted"
        client.provider.context.token_expiry_time = time.time() - 1  # type: ignore[attr-defined]
        again = _data(await client.call_tool("get_user_profile", {}))
        assert again["email"] == person.email
        second = storage.tokens
        assert second is not None and second.access_token != first.access_token
        assert second.refresh_token and second.refresh_token != first.refresh_token

        for tool_tag in (tag, other):
            _data(await client.call_tool("delete_user_tag", {"id": tool_tag["id"]}))

    assert storage.tokens is not None
    journey.access_token = storage.tokens.access_token
    for tokens in storage.history:
        journey.secrets.append(tokens.access_token)
        if tokens.refresh_token:
            journey.secrets.append(tokens.refresh_token)
    journey.secrets.extend(person.codes)
    journey.secrets.append(person.password)
    return journey


EXPECTED_TOOLS = sorted(
    ["get_user_profile"]
    + [f"{verb}_user_{kind}" for kind in ("item", "client", "tag") for verb in ("get", "create", "update", "delete")]
    + [f"get_user_{kind}s" for kind in ("item", "client", "tag")]
    + ["add_user_item_file", "delete_user_item_file"]
    + ["search", "fetch"]
)
