"""The API docs (/docs) run on the auth origin, beside the OAuth endpoints: no script from elsewhere
may run there, and in production the page is off unless asked for.

| attack | what must happen |
|---|---|
| a compromised or unreachable CDN serving Swagger UI | the page references no other origin; its assets come from Axiom itself and load offline |
| an injected inline script | the page's Content-Security-Policy allows scripts from 'self' only: no inline, no eval, no other origin |
| a production server advertising its whole API surface | /docs answers 404 in production, unless ``AXIOM_API_DOCS=true`` |
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.conftest import make_settings
from tests.support.browser import chromium
from tests.support.servers import running


async def _client(ctx: AppContext) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_auth_app(ctx))
    return httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url)


@pytest.fixture
async def auth(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(ctx) as client:
        yield client


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


async def test_the_docs_page_references_no_other_origin(auth: httpx.AsyncClient) -> None:
    page = await auth.get("/docs")
    assert page.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references, page.text
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not on Axiom's own origin"
    assert "//" not in "".join(re.findall(r"<script[^>]*>", page.text)).replace('="/', "")
    assert "cdn." not in page.text and "unpkg" not in page.text


async def test_the_docs_assets_load_from_axiom(auth: httpx.AsyncClient) -> None:
    page = await auth.get("/docs")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page.text)
    styles = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', page.text)
    assert scripts and styles
    for path in scripts:
        asset = await auth.get(path)
        assert asset.status_code == 200, path
        assert "javascript" in asset.headers["content-type"], path
        assert len(asset.content) > 100
    for path in styles:
        asset = await auth.get(path)
        assert asset.status_code == 200, path
        assert "text/css" in asset.headers["content-type"], path
    assert "SwaggerUIBundle" in (await auth.get(scripts[0])).text


async def test_the_docs_page_has_a_strict_content_security_policy(auth: httpx.AsyncClient) -> None:
    page = await auth.get("/docs")
    policy = _directives(page.headers.get("content-security-policy", ""))
    assert policy.get("default-src") == ["'none'"] or policy.get("default-src") == ["'self'"], policy
    assert policy.get("script-src") == ["'self'"], policy
    assert policy.get("frame-ancestors") == ["'none'"], policy
    assert policy.get("object-src", ["'none'"]) == ["'none'"] or policy.get("default-src") == ["'none'"]
    for values in policy.values():
        for value in values:
            assert value.startswith("'") or value.endswith(":"), f"{value}: no other origin may be allowed"
    assert "<script>" not in page.text, "no inline script: the CSP would block it"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)


def _production(ctx: AppContext, tmp_path: Path, **overrides: Any) -> AppContext:
    settings = make_settings(
        ctx.settings.database_url, tmp_path, environment="production",
        cimd_allow_private_addresses=False, cimd_allow_http=False,
        public_url="https://auth.axiom.example", web_url="https://axiom.example",
        mcp_url="https://mcp.axiom.example", **overrides,
    )
    return AppContext(settings=settings, db=ctx.db)


async def test_production_hides_the_docs(ctx: AppContext, tmp_path: Path) -> None:
    async with await _client(_production(ctx, tmp_path)) as client:
        for path in ("/docs", "/openapi.json"):
            response = await client.get(path)
            assert response.status_code == 404, (path, response.status_code)


async def test_the_flag_shows_the_docs_in_production(ctx: AppContext, tmp_path: Path) -> None:
    async with await _client(_production(ctx, tmp_path, api_docs=True)) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers.get("content-security-policy", "")
        assert (await client.get("/openapi.json")).status_code == 200


async def test_the_docs_render_in_a_browser_offline_under_their_policy(ctx: AppContext) -> None:
    """Real Chromium: Swagger UI draws the API from Axiom's own files, the CSP blocks nothing it
    needs, and no request leaves for another origin."""
    async with running(create_auth_app(ctx)) as base, chromium() as browser:
        page = await browser.new_page()
        problems: list[str] = []
        elsewhere: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else elsewhere.append(r.url))
        await page.goto(f"{base}/docs")
        await page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
        assert "Axiom API" in await page.inner_text(".swagger-ui .info")
        assert not problems, problems
        assert not elsewhere, elsewhere
