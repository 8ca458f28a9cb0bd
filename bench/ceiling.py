"""The ceiling: a bare endpoint on the same server stack as ``axiom serve``, for comparison.

Every figure the benchmarks print sits beside the rate this server reaches in the same run:
uvicorn with the settings ``axiom_mcp.server.server_config`` gives it (one process, httptools, no
access log, no server header) on the event loop ``axiom serve`` runs (``event_loop_factory``:
uvloop when installed), a Starlette app, no auth, no database, answering with a JSON body of a
requested size.

- ``GET|POST /json/<size>``: a JSON document of exactly ``size`` bytes (built once per size).
- ``GET /sse`` + ``POST /messages?session_id=...``: the legacy HTTP+SSE transport's shape with no
  MCP behind it (each posted request is answered ``202`` and then by one ``event: message`` frame
  on that session's stream: a JSON-RPC result with the request's id, ``size`` bytes in all; the
  size comes from ``?size=`` on ``/sse``). It bounds what the
  asyncio SSE client (``bench.sse_load``) can measure on this machine.

Run: ``python -m bench.ceiling --port 8123``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def json_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least 12)."""
    size = max(size, 12)
    shell = b'{"pad":""}'
    body = shell[:-2] + b"x" * (size - len(shell)) + b'"}'
    assert len(body) == size and json.loads(body)
    return body


def create_ceiling_app() -> Starlette:
    bodies: dict[int, bytes] = {}
    streams: dict[str, tuple[asyncio.Queue[bytes], int]] = {}

    def body_of(size: int) -> bytes:
        body = bodies.get(size)
        if body is None:
            body = bodies[size] = json_body(size)
        return body

    async def fixed(request: Request) -> Response:
        await request.body()  # read what was sent, as a real endpoint would
        return Response(body_of(request.path_params["size"]), media_type="application/json")

    async def sse(request: Request) -> StreamingResponse:
        size = int(request.query_params.get("size", "1000"))
        session_id = secrets.token_hex(16)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        streams[session_id] = (queue, size)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield f"event: endpoint\r\ndata: /messages?session_id={session_id}\r\n\r\n".encode()
                while True:
                    yield await queue.get()
            finally:
                streams.pop(session_id, None)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def messages(request: Request) -> Response:
        message = json.loads(await request.body())
        entry = streams.get(request.query_params.get("session_id", ""))
        if entry is None:
            return Response(status_code=404)
        queue, size = entry
        if "id" in message:  # a request gets its answer on the stream; a notification nothing
            head = b'{"jsonrpc":"2.0","id":' + json.dumps(message["id"]).encode() + b',"result":'
            answer = head + body_of(size - len(head) - 1) + b"}"
            queue.put_nowait(b"event: message\r\ndata: " + answer + b"\r\n\r\n")
        return Response(status_code=202)

    return Starlette(
        routes=[
            Route("/json/{size:int}", fixed, methods=["GET", "POST"]),
            Route("/sse", sse),
            Route("/messages", messages, methods=["POST"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--loop", choices=["same", "asyncio", "uvloop"], default="same",
                        help="event loop; `same` is the one `axiom serve` runs on (axiom_mcp.server.event_loop_factory)")
    args = parser.parse_args(argv)
    # The uvicorn settings of axiom_mcp.server.server_config, minus our request-log layer (the
    # ceiling is the bare stack), served the way `axiom serve` serves: Server.serve() inside a
    # loop of our choosing, by default the one `axiom serve` picks.
    config = uvicorn.Config(
        create_ceiling_app(),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)
    factory = None
    if args.loop == "same":
        from axiom_mcp.server import event_loop_factory

        factory = event_loop_factory()
    elif args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(server.serve())


if __name__ == "__main__":
    main()
