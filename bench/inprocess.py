"""CPU per call without HTTP: an MCP tool call through the app as an ASGI function, or one list page
read straight from the data layer, one call at a time.

    .venv/bin/python -m bench.inprocess                  # MCP: lean path and SDK path, CPU us per call
    valgrind --tool=callgrind .venv/bin/python -m bench.inprocess --path lean --calls 10
    valgrind --tool=callgrind .venv/bin/python -m bench.inprocess --path lean --calls 110
    .venv/bin/python -m bench.inprocess --lists --db postgres   # records.list_records(ITEMS, ...): pages, searches, sorts

The same stateless (2026-07-28) ``tools/call get_user_items`` as the ``stateless`` figure (a page
of 20 items with 2 tags each, of a user owning 100), on a fresh SQLite database seeded like
``bench.runner`` does, through ``create_mcp_app`` with the lean path (``stateless_calls``) or with
every request left to the SDK (``lean_tool_calls=False``). ``process_time`` counts every thread
(the read pool's too). On a shared machine seconds drift; callgrind's instruction counts do not:
the difference between two runs of 10 and 110 calls, over 100, is one call's instructions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.db.migrate import migrate
from axiom_mcp.mcp_server.app import create_mcp_app
from axiom_mcp.server import event_loop_factory
from bench.databases import database
from bench.seed import Seeder
from tests.conftest import make_settings

MCP_URL = "http://127.0.0.1:8091"

SEARCHES: tuple[tuple[str, str | None], ...] = (
    ("item 4242", None),  # the bench/run figure: a name's words (bench/README.md says why)
    ("4242", None),  # a word of a few items only
    ("zulu yankee", None),  # two words most items hold: ranks ~40,000 matches
    ("alpha", None),  # one word ~60 % of the items hold
    ("alpha", "-created"),
    ("nomatch", None),
)
"""Searches of the 100,000-item user (its items: "Item <n> <words>", 24 of 26 words as text, 2 of 8 tags)."""


def _request(token: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "get_user_items", "arguments": {"page": 1, "perPage": 20},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}},
        },
    }).encode()
    headers = [
        (b"host", MCP_URL.removeprefix("http://").encode()), (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"), (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2026-07-28"), (b"mcp-method", b"tools/call"),
        (b"mcp-name", b"get_user_items"), (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/mcp", "raw_path": b"/mcp", "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8091),
    }
    return scope, body


async def measure(path: str, calls: int, folder: Path) -> float:
    """CPU seconds per call of ``calls`` calls (after a warm-up) through the ``path`` ("lean" or "sdk")."""
    url = f"sqlite+aiosqlite:///{folder / 'inprocess.db'}"
    ctx = AppContext.from_settings(make_settings(url, folder, mcp_url=MCP_URL))
    await migrate(ctx.db.engine)
    seeder = Seeder(url)
    user = await seeder.add_user("small@bench.example", 100)
    await seeder.add_user_tokens(user, 1, api_resource=ctx.settings.api_resource,
                                 mcp_resource=ctx.settings.mcp_resource)
    app = create_mcp_app(ctx, lean_tool_calls=path == "lean")
    scope, body = _request(user.mcp_tokens[0])
    answers: list[dict[str, Any]] = []

    async def call() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            answers.append(message)

        await app(dict(scope), receive, send)

    try:
        async with app.router.lifespan_context(app):
            for _ in range(20):
                await call()
            start, end = answers[0], answers[1]
            if start.get("status") != 200 or b'"isError":false' not in end.get("body", b""):
                raise RuntimeError(f"the call failed: {start} {end.get('body', b'')[:300]!r}")
            started = time.process_time()
            for _ in range(calls):
                await call()
            return (time.process_time() - started) / calls
    finally:
        await ctx.close()


async def measure_lists(kind: str, calls: int, folder: Path) -> list[tuple[str, float]]:
    """Wall seconds per ``records.list_records(ITEMS, db, ...)`` call (the read pool) for small and deep pages."""
    async with database(kind, folder) as url:
        ctx = AppContext.from_settings(make_settings(url, folder))
        try:
            await migrate(ctx.db.engine)
            seeder = Seeder(url)
            small = await seeder.add_user("small@bench.example", 100)
            large = await seeder.add_user("large@bench.example", 100_000)
            await seeder.analyze()
            out = []
            for label, user, query in (
                ("100 items, page 1", small, PageQuery(page=1, perPage=20)),
                ("100 items, page 5", small, PageQuery(page=5, perPage=20)),
                ("100,000 items, page 1", large, PageQuery(page=1, perPage=20)),
                ("100,000 items, page 5000", large, PageQuery(page=5000, perPage=20)),
                ("100,000 items, page 2500", large, PageQuery(page=2500, perPage=20)),
                *((f"100,000 items, search {q!r}{' sort ' + sort if sort else ''}, page 1", large,
                   PageQuery(page=1, perPage=20, q=q, sort=sort)) for q, sort in SEARCHES),
                ("100,000 items, tag filter, page 1", large, PageQuery(page=1, perPage=20, tag="alpha-0")),
                ("100,000 items, sort name, page 1", large, PageQuery(page=1, perPage=20, sort="name")),
                ("100,000 items, sort -updated, page 2500", large, PageQuery(page=2500, perPage=20, sort="-updated")),
            ):
                for _ in range(5):  # warm: pools, statement caches, rank marks, count cache
                    await records.list_records(ITEMS, ctx.db, user.id, query)
                started = time.perf_counter()
                for _ in range(calls):
                    await records.list_records(ITEMS, ctx.db, user.id, query)
                out.append((label, (time.perf_counter() - started) / calls))
                print(f"{kind} list_items, {label}: {out[-1][1] * 1e6:.0f} us per call", flush=True)  # as it goes
            return out
        finally:
            await ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", choices=["lean", "sdk", "both"], default="both")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--lists", action="store_true", help="time records.list_records(ITEMS, ...) instead of an MCP call")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite", help="for --lists")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the migrations' progress lines
    if args.lists:
        with tempfile.TemporaryDirectory(prefix="axiom-inprocess-") as folder:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(measure_lists(args.db, min(args.calls, 500), Path(folder)))
        return
    for path in (["lean", "sdk"] if args.path == "both" else [args.path]):
        with tempfile.TemporaryDirectory(prefix="axiom-inprocess-") as folder:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                seconds = runner.run(measure(path, args.calls, Path(folder)))
        print(f"{path}: {seconds * 1e6:.0f} us of CPU per call ({args.calls} calls)")


if __name__ == "__main__":
    main()
