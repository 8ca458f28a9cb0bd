"""Load: 50 concurrent MCP clients (the SDK's own client over streamable HTTP, half in the
2025-11-25 session era, half in the stateless 2026-07-28 era) calling tools for 60 s against one
``axiom serve`` process, on SQLite and on PostgreSQL.

Guarantees checked:
- no errors: every tool call of every client succeeds (a tool error or an exception fails the run);
- no leaked sessions: every session a client opened (seen in its ``Mcp-Session-Id`` headers) is
  gone once the client has closed it: asked for by the same user's token it answers 404;
- no leaked connections: once the clients are gone the server holds no client connection and no
  more open file descriptors than after the warm-up (same load, so pools are equally full);
- memory flat: the server's resident memory after the 60 s phase is within ``RSS_BOUND`` of what
  it was after the warm-up, and the last third of the phase is not above the first third by more
  than ``RSS_TREND_BOUND`` (sampled from /proc every second).

Clients reconnect every ``CALLS_PER_CONNECTION`` calls, so sessions are opened and closed
thousands of times over a run, not fifty.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from axiom_mcp.context import AppContext
from axiom_mcp.settings import SCOPES
from tests.conftest import make_settings
from tests.hardening.process_server import ServerProcess
from tests.mcp_server import rpc
from tests.support.databases import database
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.slow

CLIENTS = 50
LOAD_SECONDS = float(os.environ.get("AXIOM_LOAD_SECONDS", "60"))
WARMUP_SECONDS = 10.0
CALLS_PER_CONNECTION = 25
RSS_BOUND = 40 * 1024 * 1024
"""Allowed growth of resident memory over the measured phase (allocator slack, caches warming)."""
RSS_TREND_BOUND = 20 * 1024 * 1024
"""Allowed difference between the mean of the last and the first third of the phase."""
FD_SLACK = 4


# --- the server process, seen from /proc ----------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> list[str]:
    folder = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in folder.iterdir():
        try:
            targets.append(os.readlink(fd))
        except FileNotFoundError:  # closed while listing
            continue
    return targets


def established_to(pid: int, port: int) -> int:
    """Established TCP connections the process holds on its own ``port`` (client connections)."""
    inodes = {t[len("socket:["):-1] for t in open_fds(pid) if t.startswith("socket:[")}
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and local_port == port and fields[9] in inodes:
                count += 1
    return count


# --- the clients -----------------------------------------------------------------------------------


@dataclass
class Tally:
    calls: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)
    """Session id -> the token that opened it."""


async def _one_connection(url: str, token: str, mode: str, tally: Tally, deadline: float) -> None:
    async def remember(response: httpx2.Response) -> None:
        session_id = response.headers.get("mcp-session-id")
        if session_id:
            tally.sessions[session_id] = token

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30),
                           event_hooks={"response": [remember]}) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        tally.connections += 1

        async def call(tool: str, arguments: dict[str, Any]) -> Any:
            result = await client.call_tool(tool, arguments)
            tally.calls += 1
            if result.is_error:
                tally.errors.append(f"{tool}: {result.content[0].text[:200]}")  # type: ignore[union-attr]
                return {}
            return result.structured_content

        calls = 0
        while calls == 0 or (calls < CALLS_PER_CONNECTION and time.monotonic() < deadline):  # a round at least
            tag = await call("create_user_tag", {"name": f"load {calls}"})
            item = await call("create_user_item", {"name": f"item {calls}", "content": "x" * 500,
                                                   "tags": [tag.get("id")] if tag else []})
            if item:
                await call("get_user_item", {"id": item["id"]})
                await call("update_user_item", {"id": item["id"], "content": "changed"})
                await call("get_user_items", {"search": "item", "perPage": 10})
                await call("delete_user_item", {"id": item["id"]})
            if tag:
                await call("delete_user_tag", {"id": tag["id"]})
            await call("get_user_profile", {})
            calls += 8


async def _client(url: str, token: str, mode: str, tally: Tally, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            await _one_connection(url, token, mode, tally, deadline)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            tally.errors.extend(f"{type(e).__name__}: {e}"[:300] for e in _leaves(exc))
            await asyncio.sleep(0.5)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups: the task group's wrapper says nothing."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


async def _run(url: str, tokens: list[str], seconds: float, sample: Callable[[], None] | None = None) -> Tally:
    tally = Tally()
    modes = ["legacy", "auto"]  # the 2025-11-25 session era, and the 2026-07-28 era by negotiation
    clients = [asyncio.create_task(_client(url, token, modes[i % 2], tally, seconds)) for i, token in enumerate(tokens)]
    while not all(c.done() for c in clients):
        if sample is not None:
            sample()
        await asyncio.sleep(1)
    await asyncio.gather(*clients)
    return tally


async def _settle(pid: int, port: int, timeout: float = 15) -> None:
    """Wait until no client connection is left (keep-alive connections close as clients exit)."""
    deadline = time.monotonic() + timeout
    while established_to(pid, port) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def _session_is_gone(url: str, session_id: str, token: str) -> bool:
    headers = rpc.headers(token, **{"Mcp-Session-Id": session_id, "MCP-Protocol-Version": rpc.SESSION_ERA})
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(f"{url}/mcp", json=rpc.request("ping"), headers=headers)
    return response.status_code == 404


# --- the test ----------------------------------------------------------------------------------------


async def test_fifty_clients_for_a_minute(
    db_kind: str, tmp_path: Path, server_processes: Callable[..., ServerProcess]
) -> None:
    async with database(db_kind, tmp_path) as url:
        server = server_processes(tmp_path, url)
        server.start()
        await server.wait_ready(f"{server.mcp_url}/health")
        pid = server.pid()

        settings = make_settings(url, tmp_path, mcp_url=server.mcp_url)  # the child's database and audience
        ctx = AppContext.from_settings(settings)
        try:
            users = [await make_user(ctx, name=f"Load {i}") for i in range(CLIENTS)]
            tokens = [await make_token(ctx, u.id, list(SCOPES), resource=settings.mcp_resource) for u in users]
        finally:
            await ctx.close()

        # Control: a session is visible while open and gone once its client closed it.
        control = Tally()
        await _one_connection(server.mcp_url, tokens[0], "legacy", control, time.monotonic())
        (session_id, opener), = control.sessions.items()
        assert await _session_is_gone(server.mcp_url, session_id, opener)

        warmup = await _run(server.mcp_url, tokens, WARMUP_SECONDS)
        assert not warmup.errors, (warmup.errors[:10], server.log()[-3000:])
        await _settle(pid, server.mcp_port)
        fds_before, rss_before = len(open_fds(pid)), rss_bytes(pid)

        samples: list[int] = []
        tally = await _run(server.mcp_url, tokens, LOAD_SECONDS, lambda: samples.append(rss_bytes(pid)))
        await _settle(pid, server.mcp_port)
        fds_after, rss_after = len(open_fds(pid)), rss_bytes(pid)

        report = (f"{db_kind}: {tally.calls} calls ({tally.calls / LOAD_SECONDS:.0f}/s) over {tally.connections} "
                  f"connections, {len(tally.sessions)} sessions; fds {fds_before}->{fds_after}; "
                  f"RSS {rss_before / 2**20:.1f}->{rss_after / 2**20:.1f} MiB (peak {max(samples) / 2**20:.1f})")
        print(report)
        assert not tally.errors, (len(tally.errors), tally.errors[:10], server.log()[-3000:])
        assert tally.calls >= CLIENTS * 8, report  # every client completed at least one round
        assert established_to(pid, server.mcp_port) == 0, report
        assert fds_after <= fds_before + FD_SLACK, (report, sorted(open_fds(pid)))
        leaked = [sid for sid, token in list(tally.sessions.items())[:200]
                  if not await _session_is_gone(server.mcp_url, sid, token)]
        assert not leaked, f"{len(leaked)} sessions still open after their clients closed them"
        assert rss_after - rss_before <= RSS_BOUND, report
        third = max(1, len(samples) // 3)
        first, last = sum(samples[:third]) / third, sum(samples[-third:]) / third
        assert last - first <= RSS_TREND_BOUND, report
        assert await server.stop() == 0, server.log()
