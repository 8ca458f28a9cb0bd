"""End to end, as a person runs it: ``axiom serve`` in subprocesses, a ChatGPT-like client, Chromium.

Each test starts real processes on free ports, makes an account with ``axiom user create``, and
lets ``use_like_chatgpt`` connect: discovery from the 401, registration, sign-in and consent in
the browser, code exchange with PKCE, the tools (an item with tags: create, read, update, delete),
and a token refresh. Then ``axiom cleanup`` runs, every process is stopped with SIGTERM and must
exit 0, and no token, code or password may appear in any line the servers logged.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from axiom_mcp.server import GRACEFUL_SECONDS
from tests.e2e.chatgpt import EXPECTED_TOOLS, Person, use_like_chatgpt
from tests.e2e.processes import (
    SECRET_KEY,
    AxiomProcess,
    assert_logs_are_clean,
    assert_stopped_gracefully,
    clean_env,
    instances_behind_balancer,
    run_cli,
    serving,
)
from tests.e2e.proxy import CLIENT_ADDRESS, RoundRobinProxy
from tests.support.databases import postgres_database
from tests.support.servers import free_port, running

pytestmark = pytest.mark.browser

PASSWORD = "e2e: a long and correct password"
AS_METADATA = "/.well-known/oauth-authorization-server"


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _three_services(data_dir: Path, **extra: str) -> tuple[dict[str, str], dict[str, str]]:
    """Environment of a three-port deployment on free ports, and each service's public URL."""
    ports = {"auth": free_port(), "web": free_port(), "mcp": free_port()}
    urls = {name: _url(port) for name, port in ports.items()}
    env = clean_env(
        AXIOM_DATA_DIR=str(data_dir),
        AXIOM_AUTH_PORT=str(ports["auth"]),
        AXIOM_WEB_PORT=str(ports["web"]),
        AXIOM_MCP_PORT=str(ports["mcp"]),
        AXIOM_PUBLIC_URL=urls["auth"],
        AXIOM_WEB_URL=urls["web"],
        AXIOM_MCP_URL=urls["mcp"],
        **extra,
    )
    return env, urls


READY = {"auth": AS_METADATA, "web": "/auth", "mcp": "/health"}


async def _new_account(env: dict[str, str]) -> str:
    email = f"e2e-{secrets.token_hex(4)}@example.com"
    out = await run_cli({**env, "AXIOM_USER_PASSWORD": PASSWORD}, "user", "create", email, "--name", "E2E Person")
    assert email in out
    return email


async def _cleanup_runs(env: dict[str, str]) -> None:
    out = await run_cli(env, "cleanup")
    assert "access_tokens:" in out and "authorization_codes:" in out


async def test_one_process_on_sqlite(browser: Browser, tmp_path: Path) -> None:
    """The default: `axiom serve`, all three services in one process, SQLite, no settings but ports."""
    env, urls = _three_services(tmp_path / "data")
    email = await _new_account(env)
    server = AxiomProcess(
        "axiom serve",
        ["serve"],
        env,
        ready_urls=[urls[name] + path for name, path in READY.items()],
        log_path=tmp_path / "serve.log",
    )
    async with serving(server):
        # Deployed clients still speak the 2025-11-25 era (initialize, Mcp-Session-Id).
        journey = await use_like_chatgpt(f"{urls['mcp']}/mcp", Person(email, PASSWORD, browser), mode="legacy")
        assert journey.tool_names == EXPECTED_TOOLS
        await _cleanup_runs(env)
        health = await run_cli(env, "health")
        assert [line.split(":")[0] for line in health.splitlines()] == ["auth", "web", "mcp"]
    assert_stopped_gracefully(server)
    assert_logs_are_clean([server], journey.secrets)
    assert "mcp: " in await run_cli(env, "health", "--only", "mcp", expect=1)  # stopped: unhealthy


async def test_split_services_sharing_postgres(browser: Browser, tmp_path: Path) -> None:
    """`--only auth`, `--only web`, `--only mcp`: three processes that share only PostgreSQL."""
    async with postgres_database() as database_url:
        env, urls = _three_services(tmp_path / "data", AXIOM_DATABASE_URL=database_url, AXIOM_SECRET_KEY=SECRET_KEY)
        processes = [
            AxiomProcess(
                f"axiom serve --only {name}",
                ["serve", "--only", name],
                env,
                ready_urls=[urls[name] + READY[name]],
                log_path=tmp_path / f"{name}.log",
            )
            for name in ("auth", "web", "mcp")
        ]
        async with serving(*processes):
            email = await _new_account(env)
            journey = await use_like_chatgpt(f"{urls['mcp']}/mcp", Person(email, PASSWORD, browser), mode="auto")
            assert journey.tool_names == EXPECTED_TOOLS
            await _cleanup_runs(env)
    assert_stopped_gracefully(*processes)
    assert_logs_are_clean(processes, journey.secrets)


async def test_single_origin_one_port_one_url(browser: Browser, tmp_path: Path) -> None:
    """`--single-origin`: OAuth, consent page and MCP under one port and one public URL."""
    port = free_port()
    env = clean_env(
        AXIOM_DATA_DIR=str(tmp_path / "data"), AXIOM_SINGLE_ORIGIN_PORT=str(port), AXIOM_PUBLIC_URL=_url(port)
    )
    email = await _new_account(env)
    server = AxiomProcess(
        "axiom serve --single-origin",
        ["serve", "--single-origin"],
        env,
        ready_urls=[_url(port) + path for path in READY.values()],
        log_path=tmp_path / "serve.log",
    )
    async with serving(server):
        person = Person(email, PASSWORD, browser)
        journey = await use_like_chatgpt(f"{_url(port)}/mcp", person, mode="legacy")
        assert journey.tool_names == EXPECTED_TOOLS
        # Login and consent happened on the same origin as the MCP endpoint.
        assert all(page.startswith(_url(port)) for page in person.pages), person.pages

        # Nobody is trusted here: forged forwarded headers and request ids are ignored.
        forged = httpx.get(
            f"{_url(port)}/.well-known/oauth-protected-resource/mcp",
            headers={"X-Forwarded-For": "198.51.100.66", "X-Forwarded-Proto": "https", "X-Request-ID": "forged-id"},
        )
        assert forged.status_code == 200 and forged.headers["x-request-id"] != "forged-id"

        # Graceful shutdown with a legacy SSE stream open: the stream is ended, not waited out.
        headers = {"Authorization": f"Bearer {journey.access_token}", "Accept": "text/event-stream"}
        async with httpx.AsyncClient(timeout=httpx.Timeout(30)) as http:
            async with http.stream("GET", f"{_url(port)}/sse", headers=headers) as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()  # kept: a dropped iterator would close the stream itself
                assert await anext(lines) == "event: endpoint"
                started = time.monotonic()
                await server.stop()
                stopped_in = time.monotonic() - started
                rest = [line async for line in lines]  # the server ended the stream cleanly
                assert rest[0].startswith("data: /messages?session_id="), rest
        assert stopped_in < GRACEFUL_SECONDS / 2, f"shutdown waited {stopped_in:.1f} s for an open SSE stream"
    assert_stopped_gracefully(server)
    assert_logs_are_clean([server], journey.secrets)
    requests = [line for line in server.log_lines() if line.get("logger") == "axiom.http"]
    assert {line["client"] for line in requests} == {"127.0.0.1"}
    assert {line["scheme"] for line in requests} == {"http"}
    assert "forged-id" not in server.log()


async def test_two_instances_behind_a_round_robin_balancer(browser: Browser, tmp_path: Path) -> None:
    """Two `axiom serve` sharing PostgreSQL; every request alternates between them, no affinity.

    They are one deployment, so both have the balancer's URL as their public URL (the OAuth
    issuer, the consent page, the MCP resource). Streamable HTTP in the stateless 2026-07-28 era
    needs no affinity: the OAuth flow, the web session and the tool calls all cross instances.
    """
    async with postgres_database() as database_url:
        proxy_port = free_port()
        public = _url(proxy_port)
        ports = [free_port(), free_port()]
        processes = instances_behind_balancer(tmp_path, database_url, public, ports)
        proxy = RoundRobinProxy([_url(port) for port in ports])
        try:
            async with serving(*processes), running(proxy, port=proxy_port):
                email = await _new_account(processes[0].env)
                journey = await use_like_chatgpt(f"{public}/mcp", Person(email, PASSWORD, browser), mode="auto")
                assert journey.tool_names == EXPECTED_TOOLS
        finally:
            await proxy.aclose()
    for upstream in proxy.upstreams:
        assert proxy.served_by(upstream, "/mcp", "POST") >= 3, proxy.served
    oauth_paths = {path for _, _, path in proxy.served if path.startswith("/oauth/") or path == "/auth"}
    assert {"/oauth/register", "/oauth/authorize", "/oauth/token", "/oauth/consent", "/auth"} <= oauth_paths
    # Strict alternation: no two consecutive requests went to the same instance.
    assert all(a[0] != b[0] for a, b in zip(proxy.served, proxy.served[1:], strict=False))
    assert_stopped_gracefully(*processes)
    assert_logs_are_clean(processes, journey.secrets)
    # The balancer is trusted: its client address and request ids are the ones in the logs.
    # (Only the readiness probes of /health went to the instances directly.)
    logged = [
        line
        for process in processes
        for line in process.log_lines()
        if line.get("logger") == "axiom.http" and line.get("path") != "/health"
    ]
    assert len(logged) == len(proxy.served)
    assert {line["client"] for line in logged} == {CLIENT_ADDRESS}
    assert {line["request_id"] for line in logged} == set(proxy.request_ids)
