"""Spoofed hosts: the consent page promises to name the host the code goes to, so that name must be
the one the browser will really contact, spelled so look-alike letters cannot pass for others.

| attack | what must happen |
|---|---|
| a redirect URI on ``сlaude.ai`` (a Cyrillic "с") | shown as ``xn--laude-...`` (its ASCII form), with a visible warning that it mixes scripts; the raw look-alike never shown |
| an internationalized host in one script | shown in ASCII form, no mixed-script warning |
| bidi overrides, zero-width and other invisible or control characters in a redirect URI | refused at registration (``invalid_redirect_uri``) and in a metadata document (``invalid_client``) |
| a Client ID Metadata Document URL with a non-ASCII host (look-alike, bidi, one IDNA cannot encode) | a clean ``invalid_client``, never a 500 |
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import idna
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.web.app import create_web_app
from tests.oauth.documents import DocumentServer, document_server
from tests.support.factories import TestUser
from tests.web.helpers import own_address, pending_request, register_client, sign_in_directly

LOOKALIKE = "https://\u0441laude.ai/api/mcp/auth_callback"  # a Cyrillic "с" (U+0441) then Latin "laude"
LOOKALIKE_ASCII = idna.encode("\u0441laude.ai", uts46=True).decode()
CYRILLIC_ONLY = "https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/callback"  # пример.рф
CYRILLIC_ONLY_ASCII = "xn--e1afmkfd.xn--p1ai"


@pytest.fixture
async def auth(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_auth_app(ctx), client=(own_address(), 50001))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client


@pytest.fixture
async def signed_in(ctx: AppContext, user: TestUser) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url) as client:
        await sign_in_directly(ctx, client, user.id)
        yield client


@pytest.fixture(scope="module")
async def documents() -> AsyncIterator[DocumentServer]:
    async with document_server() as server:
        yield server


async def _consent(auth: httpx.AsyncClient, web: httpx.AsyncClient, redirect_uri: str, name: str) -> httpx.Response:
    client_id = await register_client(auth, name=name, redirect_uri=redirect_uri)
    consent, _ = await pending_request(auth, client_id, redirect_uri=redirect_uri)
    page = await web.get(consent)
    assert page.status_code == 200, page.text
    return page


async def _consent_page(auth: httpx.AsyncClient, web: httpx.AsyncClient, redirect_uri: str, name: str) -> str:
    return (await _consent(auth, web, redirect_uri, name)).text


async def test_the_consent_forms_may_end_at_the_ascii_form_of_the_host(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    """The browser matches form-action against the ASCII host: without it Allow would be blocked."""
    page = await _consent(auth, signed_in, LOOKALIKE, "Claude")
    assert f"form-action 'self' https://{LOOKALIKE_ASCII};" in page.headers["content-security-policy"]


async def test_a_look_alike_host_is_shown_in_ascii_with_a_warning(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    text = await _consent_page(auth, signed_in, LOOKALIKE, "Claude")
    assert LOOKALIKE_ASCII.startswith("xn--")
    assert f'<strong class="redirect-host">{LOOKALIKE_ASCII}</strong>' in text
    assert "\u0441laude" not in text, "the look-alike spelling must never be shown"
    assert 'class="host-warning"' in text
    warning = text.split('class="host-warning"', 1)[1].split("</", 1)[0]
    assert "mixes" in warning and "Cyrillic" in warning and "Latin" in warning


async def test_an_unnamed_apps_host_is_shown_in_ascii_too(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    text = await _consent_page(auth, signed_in, LOOKALIKE, "")
    assert f"An app at {LOOKALIKE_ASCII}" in text
    assert "\u0441laude" not in text


async def test_a_host_in_one_script_is_shown_in_ascii_without_the_mixed_script_warning(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    text = await _consent_page(auth, signed_in, CYRILLIC_ONLY, "Example")
    assert f'<strong class="redirect-host">{CYRILLIC_ONLY_ASCII}</strong>' in text
    assert "mixes" not in text


INVISIBLE = [
    ("right-to-left-override", "\u202e"),
    ("right-to-left-mark", "\u200f"),
    ("left-to-right-isolate", "\u2066"),
    ("pop-directional-isolate", "\u2069"),
    ("zero-width-space", "\u200b"),
    ("zero-width-joiner", "\u200d"),
    ("soft-hyphen", "\u00ad"),
    ("byte-order-mark", "\ufeff"),
    ("c1-control", "\u0085"),
    ("line-separator", "\u2028"),
]
PLACES = [
    ("in-host", "https://claude{}.ai/callback"),
    ("in-path", "https://claude.ai/call{}back"),
    ("in-query", "https://claude.ai/callback?x={}"),
]


@pytest.mark.parametrize("char", [c for _, c in INVISIBLE], ids=[i for i, _ in INVISIBLE])
@pytest.mark.parametrize("place", [p for _, p in PLACES], ids=[i for i, _ in PLACES])
async def test_registration_refuses_invisible_and_control_characters(
    auth: httpx.AsyncClient, char: str, place: str
) -> None:
    body = {"client_name": "x", "redirect_uris": [place.format(char)], "token_endpoint_auth_method": "none"}
    response = await auth.post("/oauth/register", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize("char", [c for _, c in INVISIBLE[:4]], ids=[i for i, _ in INVISIBLE[:4]])
async def test_a_metadata_document_with_bidi_characters_is_refused(
    ctx: AppContext, auth: httpx.AsyncClient, documents: DocumentServer, char: str
) -> None:
    redirect_uri = f"https://claude{char}.ai/callback"
    client_id = documents.client_document(documents.new_path(), redirect_uris=[redirect_uri])
    response = await auth.get("/oauth/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    })
    assert response.status_code == 400, response.text
    assert "<code>invalid_client</code>" in response.text


NON_ASCII_DOCUMENT_URLS = [
    ("look-alike", "https://\u0441laude.ai/oauth/mcp-oauth-client-metadata"),
    ("bidi-override", "https://claude\u202e.ai/meta.json"),
    ("label-too-long-for-idna", "https://" + "\u00e9" * 70 + ".example/meta.json"),
    ("empty-label-after-mapping", "https://a.\u3002.example/meta.json"),
    ("fullwidth-dot", "https://claude\uff0eai/meta.json"),
    # ASCII, with control characters the HTTP client refuses to send (found by the fuzz suite: they
    # escaped as httpx.InvalidURL, a 500). On loopback, which tests may fetch from, so the fetch is tried.
    ("control-in-path", "http://127.0.0.1:9/meta\x01.json"),
    ("delete-in-query", "http://127.0.0.1:9/meta.json?\x7f"),
    ("tab-in-path", "http://127.0.0.1:9/me\tta.json"),
]


@pytest.mark.parametrize("url", [u for _, u in NON_ASCII_DOCUMENT_URLS], ids=[i for i, _ in NON_ASCII_DOCUMENT_URLS])
async def test_a_document_url_with_a_non_ascii_host_gets_a_clean_error(auth: httpx.AsyncClient, url: str) -> None:
    page = await auth.get("/oauth/authorize", params={
        "response_type": "code", "client_id": url, "redirect_uri": "https://claude.ai/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    })
    assert page.status_code == 400, page.text
    assert "<code>invalid_client</code>" in page.text
    token = await auth.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": "axac_x", "client_id": url, "code_verifier": "v" * 43,
    })
    assert token.status_code == 401, token.text
    assert token.json()["error"] == "invalid_client"
