"""Load over the legacy HTTP+SSE transport (MCP 2024-11-05), which wrk cannot drive.

A call on this transport is two HTTP exchanges: the client POSTs the JSON-RPC request to
``/messages?session_id=...`` (answered ``202 Accepted`` at once) and the answer arrives later as an
``event: message`` on the client's long-lived ``GET /sse`` stream. wrk can time the POST but not the
answer, so this client, in plain asyncio (uvloop when installed) over raw sockets, keeps N SSE
streams open, each with its own keep-alive POST connection, and runs N closed loops: post a
``tools/call``, read the 202, read events until the answer with that id, record the time.

Limits, said plainly: it is one Python process on the same 2 cores as the server, so it costs the
server CPU and tops out near a few thousand calls per second. ``bench/ceiling.py`` serves the same
exchange with nothing behind it (``/sse`` + ``/messages``), and this client against it is the
figure the SSE result is compared with. It speaks just enough HTTP/1.1 for these two servers
(chunked or sized bodies, no TLS, no redirects).

Run: ``python -m bench.sse_load --url http://127.0.0.1:8091 --tokens FILE --clients 32 --duration 20``
(prints one ``BENCH_JSON {...}`` line, the same shape as ``bench/lua/common.lua`` prints).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PROTOCOL_VERSION = "2024-11-05"


class ProtocolError(RuntimeError):
    pass


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: requests with a body, responses read whole."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer, f"{host}:{port}")

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    async def read_head(self) -> tuple[int, dict[str, str]]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        return status, headers

    async def read_response(self) -> tuple[int, bytes]:
        status, headers = await self.read_head()
        if "chunked" in headers.get("transfer-encoding", ""):
            body = bytearray()
            while chunk := await self.read_chunk():
                body += chunk
            return status, bytes(body)
        return status, await self.reader.readexactly(int(headers.get("content-length", "0")))

    async def read_chunk(self) -> bytes:
        size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
        data = await self.reader.readexactly(size + 2)
        return data[:-2]

    def close(self) -> None:
        self.writer.close()


class SseStream:
    """The events of one ``GET /sse`` response (chunked or not), parsed as they arrive."""

    def __init__(self, conn: HttpConnection, chunked: bool) -> None:
        self.conn, self.chunked = conn, chunked
        self.buffer = b""

    async def next_event(self) -> tuple[str, str]:
        while True:
            for sep in (b"\r\n\r\n", b"\n\n"):
                end = self.buffer.find(sep)
                if end >= 0:
                    raw, self.buffer = self.buffer[:end], self.buffer[end + len(sep) :]
                    event, data = "message", []
                    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
                        if line.startswith(b"event:"):
                            event = line[6:].strip().decode()
                        elif line.startswith(b"data:"):
                            data.append(line[5:].removeprefix(b" ").decode())
                    if data or event != "message":
                        return event, "\n".join(data)
                    break  # a comment or keep-alive: look again
            else:
                more = await (self.conn.read_chunk() if self.chunked else self.conn.reader.read(65536))
                if not more:
                    raise ProtocolError("the SSE stream ended")
                self.buffer += more


@dataclass
class Clock:
    """When the measured window ends (set once every session is open)."""

    deadline: float = 0.0


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    bad_status: int = 0
    bad_body: int = 0
    connect: int = 0
    first_failure: str = ""

    def fail(self, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if not self.first_failure:
            self.first_failure = detail[:300]


def _rpc(request_id: int, method: str, params: dict[str, object]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}).encode()


async def open_session(host: str, port: int, sse_path: str, token: str) -> tuple[SseStream, HttpConnection, str]:
    """A legacy session: the SSE stream, a connection for POSTs, and the endpoint path."""
    auth = {"Authorization": f"Bearer {token}"}
    stream_conn = await HttpConnection.open(host, port)
    stream_conn.send("GET", sse_path, {**auth, "Accept": "text/event-stream"})
    status, headers = await stream_conn.read_head()
    if status != 200:
        raise ProtocolError(f"GET {sse_path}: HTTP {status}")
    stream = SseStream(stream_conn, "chunked" in headers.get("transfer-encoding", ""))
    event, endpoint = await stream.next_event()
    if event != "endpoint":
        raise ProtocolError(f"first event was {event!r}, not the endpoint")
    post = await HttpConnection.open(host, port)
    return stream, post, endpoint


async def post(conn: HttpConnection, endpoint: str, token: str, body: bytes) -> int:
    conn.send("POST", endpoint, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, body)
    status, _ = await conn.read_response()
    return status


async def answer(stream: SseStream, request_id: int) -> str:
    marker = f'"id":{request_id}'
    marker_spaced = f'"id": {request_id}'
    while True:
        event, data = await stream.next_event()
        if event == "message" and (marker in data or marker_spaced in data):
            return data


async def client(
    host: str, port: int, sse_path: str, token: str, arguments: dict[str, object], clock: Clock, stats: Stats,
    ready: asyncio.Event, go: asyncio.Event,
) -> None:
    try:
        stream, conn, endpoint = await open_session(host, port, sse_path, token)
        init = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                "clientInfo": {"name": "axiom-bench", "version": "1"}}
        if await post(conn, endpoint, token, _rpc(0, "initialize", init)) != 202:
            raise ProtocolError("initialize was not accepted")
        await answer(stream, 0)
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
        await post(conn, endpoint, token, note)
    except (OSError, ProtocolError, asyncio.IncompleteReadError, ValueError) as exc:
        stats.fail("connect", f"session: {exc!r}")
        ready.set()
        return
    ready.set()
    await go.wait()
    request_id = 0
    params = {"name": "get_user_items", "arguments": arguments}
    try:
        while time.perf_counter() < clock.deadline:
            request_id += 1
            started = time.perf_counter()
            status = await post(conn, endpoint, token, _rpc(request_id, "tools/call", params))
            if status != 202:
                stats.fail("bad_status", f"POST {endpoint}: HTTP {status}")
                continue
            data = await answer(stream, request_id)
            stats.latencies.append(time.perf_counter() - started)
            if '"isError":true' in data or '"isError": true' in data or '"error":' in data:
                stats.fail("bad_body", data)
    except (OSError, ProtocolError, asyncio.IncompleteReadError, ValueError) as exc:
        stats.fail("connect", f"call: {exc!r}")
    finally:
        conn.close()
        stream.conn.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def run(url: str, sse_path: str, tokens: list[str], clients: int, duration: float,
              arguments: dict[str, object]) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    stats, clock, go = Stats(), Clock(), asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [
        asyncio.create_task(
            client(host, port, sse_path, tokens[i % len(tokens)], arguments, clock, stats, readies[i], go)
        )
        for i in range(clients)
    ]
    # Sessions open first; the clock starts when all are ready, so setup is not measured.
    for ready in readies:
        await ready.wait()
    started = time.perf_counter()
    clock.deadline = started + duration
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies)
    us = 1e6
    return {
        "requests": len(lat),
        "duration_us": int(elapsed * us),
        "bytes": 0,
        "errors": {"connect": stats.connect, "read": 0, "write": 0, "status": stats.bad_status, "timeout": 0},
        "bad_status": stats.bad_status,
        "bad_body": stats.bad_body,
        "checked": len(lat),
        "latency_us": {
            "min": int(lat[0] * us) if lat else 0,
            "mean": (sum(lat) / len(lat) * us) if lat else 0.0,
            "max": int(lat[-1] * us) if lat else 0,
            "stdev": 0.0,
            "p50": int(_percentile(lat, 0.50) * us),
            "p90": int(_percentile(lat, 0.90) * us),
            "p99": int(_percentile(lat, 0.99) * us),
        },
        "first_failure": stats.first_failure,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8091")
    parser.add_argument("--sse-path", default="/sse")
    parser.add_argument("--tokens", required=True, help="file of bearer tokens, one per line")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--page", type=int, default=1)
    parser.add_argument("--per-page", type=int, default=20)
    args = parser.parse_args(argv)
    with open(args.tokens) as f:
        tokens = [line.split()[0] for line in f if line.strip()]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(args.url, args.sse_path, tokens, args.clients, args.duration,
                             {"page": args.page, "perPage": args.per_page}))
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
