"""deploy/nginx/axiom.conf, run for real in front of two instances (TLS left out, loopback port).

The example's promise: stateless (2026-07-28) MCP requests are spread over every instance, while
what keeps a session in one process, the 2025-11-25 era's ``Mcp-Session-Id`` and the legacy
HTTP+SSE transport (``GET /sse`` or a plain ``GET /mcp`` with ``POST /messages``), all reach one
instance; SSE passes unbuffered. A ChatGPT-like client connects through it in the session era,
then the same token is used over legacy SSE (both paths) and the stateless era.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Browser

from tests.e2e.chatgpt import EXPECTED_TOOLS, Person, use_like_chatgpt
from tests.e2e.processes import (
    AxiomProcess,
    assert_stopped_gracefully,
    instances_behind_balancer,
    run_cli,
    serving,
)
from tests.support.databases import postgres_database
from tests.support.servers import free_port

pytestmark = pytest.mark.browser

EXAMPLE = Path(__file__).parents[2] / "deploy" / "nginx" / "axiom.conf"
PASSWORD = "e2e: a long and correct password"


def _replace(text: str, pattern: str, replacement: str, *, count: int = 0, flags: int = 0) -> str:
    """``re.sub`` that insists the pattern is there: the example changing shape must fail this test."""
    result, found = re.subn(pattern, replacement, text, count=count, flags=re.MULTILINE | flags)
    assert found, f"deploy/nginx/axiom.conf no longer has {pattern!r}"
    return result


def render_example(folder: Path, listen_port: int, primary: int, secondary: int) -> Path:
    """The example with its upstreams on our ports, listening on loopback without TLS."""
    conf = EXAMPLE.read_text()
    conf = _replace(conf, r"127\.0\.0\.1:8001", f"127.0.0.1:{primary}")
    conf = _replace(conf, r"127\.0\.0\.1:8002", f"127.0.0.1:{secondary}")
    # Drop the port-80 redirect server and the TLS details; listen on our port instead.
    conf = _replace(conf, r"^server \{\n    listen 80;.*?^\}\n", "", count=1, flags=re.DOTALL)
    conf = _replace(conf, r"^    listen 443 ssl http2;.*$", f"    listen 127.0.0.1:{listen_port};")
    conf = _replace(conf, r"^    listen \[::\]:443 ssl http2;\n", "")
    conf = _replace(conf, r"^    ssl_\w+ .*\n", "")
    conf = _replace(conf, r"/var/log/nginx/", f"{folder}/")
    (folder / "axiom.conf").write_text(conf)
    main = folder / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    client_body_temp_path {folder}/body;\n    proxy_temp_path {folder}/proxy;\n"
        f"    fastcgi_temp_path {folder}/fastcgi;\n    uwsgi_temp_path {folder}/uwsgi;\n"
        f"    scgi_temp_path {folder}/scgi;\n"
        f"    include {folder}/axiom.conf;\n}}\n"
    )
    return main


@contextmanager
def nginx(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is missing: scripts/services installs it"
    check = subprocess.run([binary, "-t", "-c", str(config)], capture_output=True, text=True, check=False)  # noqa: S603
    assert check.returncode == 0, check.stderr
    with (config.parent / "stderr.log").open("wb") as stderr:
        proc = subprocess.Popen([binary, "-c", str(config)], stderr=stderr)  # noqa: S603
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _requests(process: AxiomProcess, path: str, method: str | None = None) -> int:
    return sum(
        1
        for line in process.log_lines()
        if line.get("logger") == "axiom.http" and line.get("path") == path and method in (None, line.get("method"))
    )


async def test_nginx_example_spreads_stateless_requests_and_pins_sessions(browser: Browser, tmp_path: Path) -> None:
    async with postgres_database() as database_url:
        listen = free_port()
        public = f"http://127.0.0.1:{listen}"
        ports = [free_port(), free_port()]
        primary, secondary = instances_behind_balancer(tmp_path, database_url, public, ports)
        (tmp_path / "nginx").mkdir()
        config = render_example(tmp_path / "nginx", listen, *ports)
        async with serving(primary, secondary):
            with nginx(config):
                async with httpx.AsyncClient(timeout=10) as http:
                    for _ in range(100):  # nginx is up when it answers
                        try:
                            probe = await http.get(f"{public}/health")
                            break
                        except httpx.TransportError:
                            await __import__("asyncio").sleep(0.1)
                    assert probe.status_code == 200
                    assert re.fullmatch(r"[0-9a-f]{32}", probe.headers["x-request-id"])  # nginx's $request_id

                email = await _new_account(primary.env)
                # 2025-11-25 era: initialize, then Mcp-Session-Id on every request (needs affinity).
                journey = await use_like_chatgpt(f"{public}/mcp", Person(email, PASSWORD, browser), mode="legacy")
                assert journey.tool_names == EXPECTED_TOOLS
                auth = {"Authorization": f"Bearer {journey.access_token}"}

                # Legacy HTTP+SSE at /sse and at the seed's plain GET /mcp: stream and messages meet.
                for path in ("/sse", "/mcp"):
                    transport = sse_client(f"{public}{path}", headers=auth, timeout=30, sse_read_timeout=60)
                    async with Client(transport, mode="legacy") as client:
                        profile = await client.call_tool("get_user_profile", {})
                        assert profile.structured_content and profile.structured_content["email"] == email

                # 2026-07-28 era: stateless, spread over both instances.
                async with httpx2.AsyncClient(headers=auth, timeout=httpx2.Timeout(30, read=60)) as http2:
                    async with Client(streamable_http_client(f"{public}/mcp", http_client=http2), mode="auto") as client:
                        for _ in range(6):
                            tools = await client.list_tools()
                            assert sorted(t.name for t in tools.tools) == EXPECTED_TOOLS

    assert_stopped_gracefully(primary, secondary)
    # Sessions and SSE all went to the primary; the backup saw none of them.
    assert _requests(primary, "/sse", "GET") == 1 and _requests(primary, "/messages", "POST") >= 2
    assert _requests(secondary, "/sse") == 0 and _requests(secondary, "/messages") == 0
    assert _requests(secondary, "/mcp", "GET") == 0 and _requests(secondary, "/mcp", "DELETE") == 0
    # Stateless requests reached both.
    assert _requests(primary, "/mcp", "POST") > 0 and _requests(secondary, "/mcp", "POST") >= 3


async def _new_account(env: dict[str, str]) -> str:
    email = f"e2e-nginx-{free_port()}@example.com"
    await run_cli({**env, "AXIOM_USER_PASSWORD": PASSWORD}, "user", "create", email, "--name", "E2E Person")
    return email
