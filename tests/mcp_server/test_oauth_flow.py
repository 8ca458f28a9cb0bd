"""A token obtained the way MCP clients obtain one: the SDK's OAuthClientProvider against the real
auth service and MCP server on loopback (RFC 9728 discovery, RFC 8414 metadata, RFC 7591
registration, authorization code with PKCE and RFC 8707 resource, RFC 9207 iss), with the consent
answered headlessly by ``axiom_mcp.oauth.authorize.approve`` for a test user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.data.tokens import find_access_token
from axiom_mcp.mcp_server.app import create_mcp_app
from axiom_mcp.oauth.authorize import approve
from tests.conftest import make_settings
from tests.mcp_server.clients import PROTOCOL_VERSION, TRANSPORTS, connect
from tests.support.factories import TestUser, make_user
from tests.support.oauth_client import MemoryStorage
from tests.support.servers import free_port, running


@dataclass
class Deployment:
    ctx: AppContext
    auth_url: str
    mcp_url: str


@pytest.fixture(scope="module")
async def deployment(ctx: AppContext) -> AsyncIterator[Deployment]:
    """The auth service and the MCP server, as ``axiom serve`` runs them: one context, two ports."""
    auth_port, mcp_port = free_port(), free_port()
    settings = make_settings(
        ctx.settings.database_url, ctx.settings.data_dir,
        public_url=f"http://127.0.0.1:{auth_port}", mcp_url=f"http://127.0.0.1:{mcp_port}", mcp_port=mcp_port,
    )
    shared = AppContext.from_settings(settings)
    try:
        async with running(create_auth_app(shared), auth_port) as auth_url, \
                running(create_mcp_app(shared), mcp_port) as mcp_url:
            yield Deployment(shared, auth_url, mcp_url)
    finally:
        await shared.close()


@dataclass
class HeadlessUser:
    """Plays the browser and the person: follows the authorization URL, allows on the consent step."""

    deployment: Deployment
    user: TestUser
    grant_only: list[str] | None = None
    """If set, the first authorization asks for just these scopes (a narrower first consent)."""
    authorization_urls: list[str] = field(default_factory=list)
    answers: list[AuthorizationCodeResult] = field(default_factory=list)

    async def redirect(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        if self.grant_only is not None and len(self.authorization_urls) == 1:
            authorization_url = _with_param(authorization_url, "scope", " ".join(self.grant_only))
        async with httpx.AsyncClient(timeout=10) as browser:
            response = await browser.get(authorization_url)
        assert response.status_code in (302, 303), response.text
        consent = urlsplit(response.headers["location"])
        assert consent.path == "/oauth/consent"
        request_id = parse_qs(consent.query)["request_id"][0]
        async with self.deployment.ctx.db.session() as session:
            back = await approve(session, self.deployment.ctx.settings, request_id, self.user.id)
        answer = parse_qs(urlsplit(back).query)
        self.answers.append(AuthorizationCodeResult(
            code=answer["code"][0], state=answer["state"][0], iss=answer.get("iss", [None])[0]))

    async def callback(self) -> AuthorizationCodeResult:
        return self.answers.pop()


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {name: value}
    return urlunsplit(parts._replace(query=urlencode(query)))


def oauth_provider(deployment: Deployment, person: HeadlessUser, storage: MemoryStorage) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=f"{deployment.mcp_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="Axiom MCP tests",
            redirect_uris=["http://127.0.0.1:9/callback"],  # never opened: HeadlessUser answers instead
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
    )


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_a_token_from_the_oauth_flow_works_over_every_transport(deployment: Deployment, era: str) -> None:
    user = await make_user(deployment.ctx, name="Olive")
    person, storage = HeadlessUser(deployment, user), MemoryStorage()
    provider = oauth_provider(deployment, person, storage)

    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(10, read=30)) as http, \
            Client(streamable_http_client(f"{deployment.mcp_url}/mcp", http_client=http), mode=era) as client:
        profile = (await client.call_tool("get_user_profile", {})).structured_content
        assert profile is not None and profile["id"] == user.id

    assert len(person.authorization_urls) == 1
    asked = parse_qs(urlsplit(person.authorization_urls[0]).query)
    assert asked["resource"] == [f"{deployment.mcp_url}/mcp"] and asked["code_challenge_method"] == ["S256"]
    assert storage.tokens is not None and storage.client_info is not None
    token = storage.tokens.access_token
    async with deployment.ctx.db.session() as session:
        info = await find_access_token(session, token)
    assert info is not None
    assert (info.user_id, info.client_id, info.resource) == (user.id, storage.client_info.client_id,
                                                             f"{deployment.mcp_url}/mcp")

    for transport in TRANSPORTS:
        async with connect(deployment.mcp_url, token, transport) as client:
            assert client.session.protocol_version == PROTOCOL_VERSION[transport]
            assert len((await client.list_tools()).tools) == 20
            tag = (await client.call_tool("create_user_tag", {"name": transport})).structured_content
            assert tag is not None and tag["user"] == user.id
            deleted = await client.call_tool("delete_user_tag", {"id": tag["id"]})
            assert not deleted.is_error, transport


async def test_a_403_insufficient_scope_leads_the_sdk_to_step_up_and_retry(deployment: Deployment) -> None:
    user = await make_user(deployment.ctx, name="Stella")
    person = HeadlessUser(deployment, user, grant_only=["items:read"])
    storage = MemoryStorage()
    provider = oauth_provider(deployment, person, storage)

    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(10, read=30)) as http, \
            Client(streamable_http_client(f"{deployment.mcp_url}/mcp", http_client=http), mode="auto") as client:
        assert not (await client.call_tool("get_user_items", {})).is_error
        assert storage.tokens is not None and storage.tokens.scope == "items:read"
        created = await client.call_tool("create_user_item", {"name": "after step-up"})
        assert not created.is_error

    assert len(person.authorization_urls) == 2  # the 403 sent the client to authorize again
    second = parse_qs(urlsplit(person.authorization_urls[1]).query)["scope"][0].split()
    assert "items:write" in second and "items:read" in second
    async with deployment.ctx.db.session() as session:
        assert [i.name for i in (await records.list_records(ITEMS, session, user.id, PageQuery())).items] == ["after step-up"]
