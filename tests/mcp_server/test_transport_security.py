"""Host and Origin checks (DNS-rebinding protection) and CORS on the MCP endpoints only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from axiom_mcp.mcp_server.transport_security import allowed_hosts, allowed_origins, origin_of
from tests.conftest import make_settings
from tests.mcp_server import rpc
from tests.mcp_server.conftest import BROWSER_CLIENT_ORIGIN, McpService

PATHS = {"post-mcp": ("POST", "/mcp"), "get-sse": ("GET", "/sse"), "post-messages": ("POST", "/messages")}


def _port(mcp: McpService) -> int:
    return urlsplit(mcp.url).port or 0


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("LOCALHOST:{port}", True),
        ("evil.example", False),
        ("evil.example:{port}", False),
        ("127.0.0.1:1", False),
        ("127.0.0.1", False),
    ],
    ids=["configured", "loopback-name", "any-case", "rebound-name", "rebound-name-with-port", "other-port", "no-port"],
)
async def test_only_configured_hosts_are_served(
    mcp: McpService, http: httpx.AsyncClient, host: str, allowed: bool, path: str
) -> None:
    method, target = PATHS[path]
    response = await http.request(method, target, json=rpc.initialize(),
                                  headers=rpc.headers(Host=host.format(port=_port(mcp))))
    assert response.status_code == (401 if allowed else 421)  # 401: past the check, at authentication


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("{mcp}", True),
        (BROWSER_CLIENT_ORIGIN, True),
        ("http://evil.example", False),
        ("null", False),
        ("http://127.0.0.1:1", False),
        ("https://127.0.0.1:{port}", False),
    ],
    ids=["none", "own-origin", "configured-extra", "foreign", "opaque", "other-port", "other-scheme"],
)
async def test_only_allowed_origins_are_served_and_get_cors_headers(
    mcp: McpService, http: httpx.AsyncClient, origin: str | None, allowed: bool
) -> None:
    extra = {} if origin is None else {"Origin": origin.format(mcp=mcp.url, port=_port(mcp))}
    response = await http.post("/mcp", json=rpc.initialize(), headers=rpc.headers(**extra))
    assert response.status_code == (401 if allowed else 403)
    if allowed and origin is not None:
        assert response.headers["access-control-allow-origin"] == extra["Origin"]
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "www-authenticate" in exposed and "mcp-session-id" in exposed
    else:
        assert "access-control-allow-origin" not in response.headers


async def test_a_browser_preflight_from_an_allowed_origin_succeeds(http: httpx.AsyncClient) -> None:
    response = await http.options("/mcp", headers={
        "Origin": BROWSER_CLIENT_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-session-id",
    })
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == BROWSER_CLIENT_ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("authorization", "mcp-protocol-version", "mcp-session-id"))
    refused = await http.options("/mcp", headers={"Origin": "http://evil.example",
                                                  "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 403


async def test_health_has_no_cors_and_answers_any_host(http: httpx.AsyncClient) -> None:
    response = await http.get("/health", headers={"Origin": BROWSER_CLIENT_ORIGIN, "Host": "10.0.0.5:8091"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_production_hosts_and_origins_come_from_settings_alone(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/x.db", tmp_path, environment="production",
        public_url="https://auth.example.com", web_url="https://app.example.com", mcp_url="https://MCP.example.com",
        allowed_origins=["https://inspector.example.com/"], cimd_allow_private_addresses=False, cimd_allow_http=False,
    )
    assert allowed_hosts(settings) == {"mcp.example.com", "mcp.example.com:443"}
    assert allowed_origins(settings) == {"https://mcp.example.com", "https://inspector.example.com"}


def test_development_also_answers_on_loopback(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db", tmp_path, environment="development")
    assert {"localhost:8091", "127.0.0.1:8091", "[::1]:8091"} <= allowed_hosts(settings)
    assert allowed_origins(settings) == {"http://localhost:8091"}


@pytest.mark.parametrize(
    ("url", "origin"),
    [("https://Example.COM:443/mcp", "https://example.com"), ("http://[::1]:8091", "http://[::1]:8091"),
     ("http://localhost:80/", "http://localhost")],
    ids=["default-port-dropped", "ipv6", "http-default-port"],
)
def test_origin_serialisation(url: str, origin: str) -> None:
    assert origin_of(url) == origin
