"""The small rules, one row each: redirect URIs, scopes, PKCE, resources, CIMD URLs and addresses."""

from __future__ import annotations

import pytest

from axiom_mcp.oauth import cimd, pkce
from axiom_mcp.oauth.errors import OAuthError
from axiom_mcp.oauth.redirects import check_redirect_uri, redirect_uri_matches, with_query
from axiom_mcp.oauth.resources import resolve_resource
from axiom_mcp.oauth.scopes import known_scopes, requested_scopes
from axiom_mcp.settings import DEFAULT_SCOPES, Settings


def settings(**overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, environment="test", database_url="sqlite+aiosqlite://", secret_key="s" * 40, **overrides
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/abc123",
        "http://127.0.0.1:33418/callback",
        "http://localhost:3030/callback",
        "http://[::1]/cb",
        "https://app.example/cb?x=1",
    ],
)
def test_registrable_redirect_uris(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://example.com/cb",
        "https://example.com/cb#frag",
        "https://user:pw@example.com/cb",
        "https:///nohost",
        "com.example.app:/oauth",
        "https://example.com/c b",
        "https://example.com:99999/cb",
        "",
        "https://e.com/" + "a" * 2000,
        "http://127.0.0.1.evil.com/cb",
    ],
    ids=[
        "javascript", "data", "http-remote", "fragment", "userinfo", "no-host", "custom-scheme", "space",
        "bad-port", "empty", "too-long", "loopback-lookalike",
    ],
)
def test_refused_redirect_uris(uri: str) -> None:
    with pytest.raises(OAuthError) as caught:
        check_redirect_uri(uri)
    assert caught.value.error == "invalid_redirect_uri"


@pytest.mark.parametrize(
    ("requested", "registered", "matches"),
    [
        ("https://claude.ai/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], True),
        ("https://claude.ai/api/mcp/auth_callback/", ["https://claude.ai/api/mcp/auth_callback"], False),
        ("https://Claude.ai/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], False),
        ("https://claude.ai/api/mcp/auth_callback?x=1", ["https://claude.ai/api/mcp/auth_callback"], False),
        ("https://claude.ai:444/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], False),
        ("http://127.0.0.1:5555/callback", ["http://127.0.0.1/callback"], True),
        ("http://127.0.0.1:5555/callback", ["http://127.0.0.1:1234/callback"], True),
        ("http://localhost:5555/callback", ["http://localhost:3030/callback"], True),
        ("http://[::1]:5555/cb", ["http://[::1]/cb"], True),
        ("http://127.0.0.1:5555/other", ["http://127.0.0.1/callback"], False),
        ("http://localhost:5555/callback", ["http://127.0.0.1/callback"], False),
        ("http://127.0.0.1:5555@evil.com/callback", ["http://127.0.0.1/callback"], False),
        ("https://127.0.0.1:5555/callback", ["http://127.0.0.1/callback"], False),
    ],
    ids=[
        "exact", "trailing-slash", "case", "extra-query", "other-port-https", "loopback-any-port",
        "loopback-other-port", "localhost-other-port", "ipv6-loopback", "loopback-other-path",
        "loopback-other-host", "userinfo-trick", "loopback-https-vs-http",
    ],
)
def test_redirect_uri_matching(requested: str, registered: list[str], matches: bool) -> None:
    assert redirect_uri_matches(requested, registered) is matches


def test_response_parameters_keep_the_registered_query() -> None:
    assert with_query("https://a.example/cb?x=1", {"code": "c d", "state": None}) == "https://a.example/cb?x=1&code=c+d"


@pytest.mark.parametrize(
    ("raw", "registered", "expected"),
    [
        (None, None, list(DEFAULT_SCOPES)),
        ("", None, list(DEFAULT_SCOPES)),
        ("items:read", None, ["items:read"]),
        ("offline_access items:read  items:read", None, ["items:read", "offline_access"]),
        (None, {"items:read", "offline_access"}, ["items:read"]),
    ],
    ids=["absent", "empty", "one", "dedup-and-order", "default-within-registered"],
)
def test_scopes(raw: str | None, registered: set[str] | None, expected: list[str]) -> None:
    assert requested_scopes(raw, registered=registered) == expected


@pytest.mark.parametrize(
    ("raw", "registered"),
    [("admin", None), ("items:read openid", None), ("items:write", {"items:read"}), ("x" * 1001, None),
     (None, {"offline_access"})],
    ids=["unknown", "one-unknown", "beyond-registered", "too-long", "no-default-left"],
)
def test_refused_scopes(raw: str | None, registered: set[str] | None) -> None:
    with pytest.raises(OAuthError) as caught:
        requested_scopes(raw, registered=registered)
    assert caught.value.error == "invalid_scope"


def test_registration_scope_keeps_known_values() -> None:
    assert known_scopes("openid items:read claudeai") == "items:read"
    assert known_scopes("openid") is None


@pytest.mark.parametrize(
    ("challenge", "method"),
    [(None, "S256"), ("a" * 43, None), ("a" * 43, "plain"), ("a" * 42, "S256"), ("a" * 42 + "=", "S256")],
    ids=["missing", "method-missing-means-plain", "plain", "short", "padding"],
)
def test_refused_challenges(challenge: str | None, method: str | None) -> None:
    with pytest.raises(OAuthError) as caught:
        pkce.check_challenge(challenge, method)
    assert caught.value.error == "invalid_request"


def test_s256_matches_rfc7636_appendix_b() -> None:
    assert pkce.s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], "mcp_resource"), (["http://localhost:8091/mcp"], "mcp_resource"), (["http://localhost:8091"], "mcp_url"),
     (["http://localhost:8090/api/v1"], "api_resource")],
    ids=["absent", "mcp-endpoint", "mcp-service", "api"],
)
def test_resources(values: list[str], expected: str) -> None:
    s = settings()
    assert resolve_resource(s, values) == getattr(s, expected)


@pytest.mark.parametrize(
    "values",
    [["https://evil.example/mcp"], ["http://localhost:8091/mcp/"], ["http://localhost:8091/mcp", "http://localhost:8090/api/v1"]],
    ids=["foreign", "trailing-slash", "two-resources"],
)
def test_refused_resources(values: list[str]) -> None:
    with pytest.raises(OAuthError) as caught:
        resolve_resource(settings(), values)
    assert caught.value.error == "invalid_target"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("127.0.0.1", False), ("::1", False),
        ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False),
        ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False),
        ("100.64.0.1", False), ("224.0.0.1", False),
    ],
)
def test_document_addresses(address: str, public: bool) -> None:
    assert cimd.is_public_address(address) is public


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [
        ("http://client.example/meta.json", False),
        ("https://client.example", True),
        ("https://client.example/", True),
        ("https://client.example/a#b", True),
        ("https://u:p@client.example/meta.json", True),
        ("https://client.example/a/../meta.json", True),
        ("ftp://client.example/meta.json", True),
    ],
    ids=["http-outside-tests", "no-path", "root-path", "fragment", "userinfo", "dot-segments", "ftp"],
)
def test_refused_document_urls(url: str, allow_http: bool) -> None:
    with pytest.raises(OAuthError) as caught:
        cimd.check_document_url(url, settings(cimd_allow_http=allow_http))
    assert caught.value.error == "invalid_client"
