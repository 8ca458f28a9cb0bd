"""Request ids, structured log lines without secrets, forwarded headers only from trusted proxies."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from axiom_mcp.observability import JsonFormatter, RequestLog, _RequestIdFilter, is_trusted_proxy, redact
from axiom_mcp.server import server_config
from tests.conftest import make_settings
from tests.support.servers import running

SECRET = "s3cr3t-t0ken-value"


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers what the app saw: client address, scheme, request id; logs a line of its own."""
    request = Request(scope, receive)
    if request.url.path == "/boom":
        raise RuntimeError("boom")
    logging.getLogger("axiom.test").info("handling inside the request")
    response = JSONResponse(
        {
            "client": request.client.host if request.client else None,
            "scheme": request.url.scheme,
            "request_id": request.state.request_id,
        }
    )
    await response(scope, receive, send)


class LogLines:
    """The JSON objects our loggers (``axiom.*``) wrote during a test, as the server would print them."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def of(self, logger: str) -> list[dict[str, object]]:
        return [line for line in self.all() if line["logger"] == logger]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    ours = logging.getLogger("axiom")
    old_level = ours.level
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    try:
        yield LogLines(stream)
    finally:
        ours.removeHandler(handler)
        ours.setLevel(old_level)


def _client(app: ASGIApp, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_every_response_carries_a_fresh_request_id_that_the_app_and_its_logs_see() -> None:
    async with _client(RequestLog(_echo, service="web")) as client:
        first, second = await client.get("/a"), await client.get("/b")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.json()["request_id"] == first.headers["x-request-id"]


async def test_the_log_line_has_the_request_and_none_of_its_secrets(log_lines: LogLines) -> None:
    async with _client(RequestLog(_echo, service="auth")) as client:
        response = await client.get(
            f"/oauth/callback?code={SECRET}&state={SECRET}",
            headers={"Authorization": f"Bearer {SECRET}", "Cookie": f"axiom_session={SECRET}"},
        )
    lines = log_lines.of("axiom.http")
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["service"], line["method"], line["path"], line["status"]) == ("auth", "GET", "/oauth/callback", 200)
    assert isinstance(line["duration_ms"], float)
    inner = log_lines.of("axiom.test")
    assert inner and inner[0]["request_id"] == line["request_id"]
    assert SECRET not in json.dumps(log_lines.all())


async def test_an_unhandled_error_is_logged_as_500_with_its_request_id(log_lines: LogLines) -> None:
    async with _client(RequestLog(_echo, service="mcp")) as client:
        response = await client.get("/boom")
    error, line = log_lines.of("axiom.http")
    assert (line["path"], line["status"]) == ("/boom", 500)
    assert error["request_id"] == line["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError: boom" in str(error["exception"])
    assert response.status_code == 500


@pytest.mark.parametrize(
    ("peer", "trusted", "expected_client", "expected_scheme"),
    [
        ("10.1.2.3", ["10.1.2.3"], "203.0.113.9", "https"),
        ("10.1.2.3", ["10.0.0.0/8"], "203.0.113.9", "https"),
        ("10.1.2.3", ["*"], "203.0.113.9", "https"),
        ("10.1.2.3", [], "10.1.2.3", "http"),
        ("198.51.100.7", ["10.0.0.0/8"], "198.51.100.7", "http"),
    ],
    ids=["trusted-address", "trusted-network", "trust-all", "no-proxy-configured", "untrusted-peer"],
)
async def test_forwarded_headers_are_believed_only_from_trusted_proxies(
    peer: str, trusted: list[str], expected_client: str, expected_scheme: str
) -> None:
    app = RequestLog(_echo, service="web", trusted_proxies=trusted)
    async with _client(app, peer=peer) as client:
        response = await client.get(
            "/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Request-ID": "lb-1234"}
        )
    body = response.json()
    assert (body["client"], body["scheme"]) == (expected_client, expected_scheme)
    trusted_peer = expected_client != peer
    assert (response.headers["x-request-id"] == "lb-1234") is trusted_peer


@pytest.mark.parametrize(
    "incoming", ["has space", "x" * 129, "semi;colon", "new\\nline"], ids=["space", "too-long", "semicolon", "escape"]
)
async def test_a_malformed_request_id_from_a_trusted_proxy_is_replaced(incoming: str) -> None:
    async with _client(RequestLog(_echo, service="web", trusted_proxies=["127.0.0.1"])) as client:
        response = await client.get("/", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ("basic dXNlcjpwYXNz", "basic [redacted]"),
        ("GET /cb?code=abc&state=xyz", "GET /cb?code=[redacted]&state=[redacted]"),
        ("refresh_token=r1 access_token=a1", "refresh_token=[redacted] access_token=[redacted]"),
        ('{"password": "hunter2"}', '{"password": "[redacted]"}'),
        ('{"client_secret":"cs"}', '{"client_secret":"[redacted]"}'),
        ("request_id=abc123", "request_id=[redacted]"),
        ("nothing to hide here", "nothing to hide here"),
    ],
    ids=["bearer", "basic", "query", "form", "json-password", "json-secret", "consent-request-id", "plain"],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("host", "trusted", "expected"),
    [
        ("127.0.0.1", ["127.0.0.1"], True),
        ("::1", ["::1"], True),
        ("172.18.0.5", ["172.16.0.0/12"], True),
        ("172.32.0.5", ["172.16.0.0/12"], False),
        ("127.0.0.1", [], False),
        (None, ["*"], False),
        ("8.8.8.8", ["*"], True),
        ("8.8.8.8", ["not-an-address"], False),
    ],
    ids=["v4", "v6", "in-network", "outside-network", "none-trusted", "no-peer", "star", "garbage-entry"],
)
def test_is_trusted_proxy(host: str | None, trusted: list[str], expected: bool) -> None:
    assert is_trusted_proxy(host, trusted) is expected


def test_uvicorn_is_configured_without_its_access_log_and_with_our_layer(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path, trusted_proxies=["10.0.0.1"])
    config = server_config(settings, "auth", PlainTextResponse("ok"), 1234)
    assert config.access_log is False
    assert config.proxy_headers is False  # RequestLog applies them, from trusted proxies only
    assert isinstance(config.app, RequestLog)
    assert config.app.trusted_proxies == ["10.0.0.1"]


async def test_a_response_the_app_left_open_is_ended_properly() -> None:
    async def gives_up(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            for answer in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
                await receive()
                await send({"type": answer})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b"event: endpoint\n\n", "more_body": True})
        # returns without the final body message, as an SSE stream ended by shutdown does

    async with running(RequestLog(gives_up, service="mcp")) as url, httpx.AsyncClient() as client:
        response = await client.get(f"{url}/sse")
    assert response.text == "event: endpoint\n\n"


async def test_healthy_probes_are_logged_only_at_debug_level(log_lines: LogLines) -> None:
    async def health(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ok" if scope["path"] == "/health" else "no", 200)(scope, receive, send)

    async with _client(RequestLog(health, service="mcp")) as client:
        await client.get("/health")
        await client.get("/other")
    assert [line["path"] for line in log_lines.of("axiom.http")] == ["/other"]


def test_request_ids_are_sixteen_hex_digits_and_never_repeat_in_a_process() -> None:
    from axiom_mcp.observability import new_request_id

    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("log_format", "stream", "json_lines"),
    [
        pytest.param("auto", io.StringIO, True, id="auto-to-a-pipe-is-json"),
        pytest.param("auto", _Terminal, False, id="auto-to-a-terminal-is-text"),
        pytest.param("json", _Terminal, True, id="json-always"),
        pytest.param("text", io.StringIO, False, id="text-always"),
    ],
)
def test_log_lines_are_for_people_on_a_terminal_and_json_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, log_format: str, stream: type[io.StringIO], json_lines: bool
) -> None:
    from axiom_mcp.observability import configure_logging

    out = stream()
    monkeypatch.setattr("sys.stderr", out)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(make_settings("sqlite+aiosqlite://", tmp_path, log_format=log_format))
        logging.getLogger("axiom").warning("hello %s", "there")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = out.getvalue().strip()
    if json_lines:
        assert json.loads(line)["message"] == "hello there"
    else:
        assert line.endswith("WARNING axiom hello there") and not line.startswith("{")
