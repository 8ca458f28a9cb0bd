"""The whole flow with the mcp SDK's own ``OAuthClientProvider`` against real servers on loopback.

The auth service and the MCP service run on free ports; the SDK client finds the authorization
server from the MCP endpoint's 401 (RFC 9728, then RFC 8414), registers (RFC 7591) or uses a
Client ID Metadata Document served by a third local server, authorizes with PKCE, exchanges the
code, calls a tool, and refreshes. The person's consent is given headlessly through the seed's
POST /oauth/authorize with the token the web app would hold (from POST /api/v1/auth/login); the
browser version of this journey lives in tests/e2e.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from mcp.shared.exceptions import MCPError

from axiom_mcp.app import create_auth_app, create_mcp_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.mcp_server.auth import INSUFFICIENT_SCOPE_CODE
from tests.oauth.documents import document_server
from tests.oauth.helpers import query_of, with_settings
from tests.support.factories import TestUser
from tests.support.oauth_client import MemoryStorage
from tests.support.servers import free_port, running

CALLBACK = "http://127.0.0.1:33418/callback"


@dataclass
class HeadlessPerson:
    """Answers the consent the way the web app does for a signed-in user, without a browser."""

    auth_url: str
    email: str
    password: str
    seen: list[str] = field(default_factory=list)
    redirect: str = ""
    keep: str | None = None
    """The scopes the person leaves ticked (None: all the app asked for)."""

    async def open(self, authorization_url: str) -> None:
        self.seen.append(authorization_url)
        async with httpx.AsyncClient(timeout=10) as http:
            started = await http.get(authorization_url)
            assert started.status_code == 302, started.text
            request_id = query_of(started.headers["location"])["request_id"]
            login = await http.post(f"{self.auth_url}/api/v1/auth/login",
                                    json={"email": self.email, "password": self.password})
            assert login.status_code == 200, login.text
            choice = {} if self.keep is None else {"scope": self.keep}
            answer = await http.post(f"{self.auth_url}/oauth/authorize",
                                     json={"request_id": request_id, "decision": "allow", **choice},
                                     headers={"Authorization": f"Bearer {login.json()['token']}"})
            assert answer.status_code == 200, answer.text
            self.redirect = answer.json()["redirect_url"]

    async def callback(self) -> AuthorizationCodeResult:
        assert self.redirect.startswith(CALLBACK + "?")
        params = query_of(self.redirect)
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))


@dataclass
class Services:
    auth_url: str
    mcp_url: str
    documents_url: str
    ctx: AppContext
    documents: Any


@asynccontextmanager
async def services(ctx: AppContext) -> AsyncIterator[Services]:
    auth_port, mcp_port = free_port(), free_port()
    service_ctx = with_settings(
        ctx,
        public_url=f"http://127.0.0.1:{auth_port}",
        mcp_url=f"http://127.0.0.1:{mcp_port}",
        web_url="http://127.0.0.1:9",  # never reached: consent is given through POST /oauth/authorize
    )
    async with (
        document_server() as documents,
        running(create_auth_app(service_ctx), auth_port) as auth_url,
        running(create_mcp_app(service_ctx), mcp_port) as mcp_url,
    ):
        yield Services(auth_url, mcp_url, documents.url, service_ctx, documents)


def _profile(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return dict(result.structured_content)


@pytest.mark.parametrize("registration", ["dcr", "cimd"])
async def test_sdk_client_connects_and_refreshes(ctx: AppContext, account: TestUser, registration: str) -> None:
    async with services(ctx) as svc:
        person = HeadlessPerson(svc.auth_url, account.email, account.password)
        storage = MemoryStorage()
        metadata = OAuthClientMetadata(
            client_name=f"SDK {registration} client",
            redirect_uris=[CALLBACK],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        )
        provider = OAuthClientProvider(
            server_url=f"{svc.mcp_url}/mcp",
            client_metadata=metadata,
            storage=storage,
            redirect_handler=person.open,
            callback_handler=person.callback,
        )
        document_url = None
        if registration == "cimd":
            path = svc.documents.new_path()
            document_url = svc.documents.client_document(
                path, client_name="SDK cimd client", redirect_uris=[CALLBACK])
            # The SDK insists on https for a metadata document URL when constructed; the local
            # document server speaks http (the test settings allow it), so it is set afterwards.
            provider.context.client_metadata_url = document_url

        async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(20, read=30)) as http:
            async with Client(streamable_http_client(f"{svc.mcp_url}/mcp", http_client=http), mode="legacy") as client:
                profile = _profile(await client.call_tool("get_user_profile", {}))
                assert profile["email"] == account.email

                # Discovery, registration and authorization happened once, as expected.
                assert len(person.seen) == 1
                authorization = query_of(person.seen[0])
                assert authorization["code_challenge_method"] == "S256"
                assert authorization["resource"] == svc.ctx.settings.mcp_resource
                assert storage.client_info is not None
                if registration == "cimd":
                    assert storage.client_info.client_id == document_url
                    assert svc.documents.hits[path] == 1
                else:
                    assert storage.client_info.client_id.startswith("axc_")
                    assert storage.client_info.client_secret  # the RFC 7591 default: client_secret_basic
                first = storage.tokens
                assert first is not None and first.refresh_token
                assert "offline_access" in (first.scope or "").split()

                # The access token is treated as expired: the provider refreshes before the next call.
                provider.context.token_expiry_time = time.time() - 1
                again = _profile(await client.call_tool("get_user_profile", {}))
                assert again["email"] == account.email
                second = storage.tokens
                assert second is not None and second.access_token != first.access_token
                assert second.refresh_token and second.refresh_token != first.refresh_token
                assert len(person.seen) == 1  # no new authorization: the refresh did it

        info = await svc.ctx.tokens.verify(second.access_token)
        assert info is not None and info.user_id == account.id and info.resource == svc.ctx.settings.mcp_resource


async def test_the_person_unticks_permissions_and_the_token_has_only_the_rest(ctx: AppContext, account: TestUser) -> None:
    """RFC 6749 section 3.3: the token response names the scopes granted when they differ from the
    request. A tool outside them answers insufficient_scope; the SDK then asks for the scope again
    (step-up), and the person keeps it withheld."""
    async with services(ctx) as svc:
        person = HeadlessPerson(svc.auth_url, account.email, account.password, keep="items:read profile:read")
        storage = MemoryStorage()
        provider = OAuthClientProvider(
            server_url=f"{svc.mcp_url}/mcp",
            client_metadata=OAuthClientMetadata(
                client_name="Careful client", redirect_uris=[CALLBACK],  # type: ignore[list-item]
                grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            ),
            storage=storage,
            redirect_handler=person.open,
            callback_handler=person.callback,
        )
        async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(20, read=30)) as http:
            async with Client(streamable_http_client(f"{svc.mcp_url}/mcp", http_client=http), mode="legacy") as client:
                assert _profile(await client.call_tool("get_user_profile", {}))["email"] == account.email
                assert {"items:write", "offline_access"} <= set(query_of(person.seen[0])["scope"].split())
                assert storage.tokens is not None and storage.tokens.scope == "profile:read items:read"
                assert storage.tokens.refresh_token is None  # offline_access withheld: no refresh token
                assert (await client.call_tool("get_user_items", {})).structured_content["totalItems"] == 0
                with pytest.raises(MCPError) as refused:
                    await client.call_tool("create_user_item", {"name": "not allowed"})
                assert refused.value.error.code == INSUFFICIENT_SCOPE_CODE
                assert "'items:write'" in refused.value.error.message
                assert len(person.seen) == 2  # the step-up went to the person, who said no again
                assert storage.tokens.scope == "profile:read items:read"
        async with ctx.db.session() as session:
            assert (await records.list_records(ITEMS, session, account.id, PageQuery())).totalItems == 0
