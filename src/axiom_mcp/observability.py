"""Structured logs with request ids, and forwarded headers believed only from trusted proxies.

``RequestLog`` is the outermost ASGI layer of every service: it gives each request an id (kept from
an ``X-Request-ID`` a trusted proxy sent, else new), returns it as ``X-Request-ID``, makes it
available to every log line written while the request runs, and writes one line per request.
That line names the method, the path *without its query string* (authorization responses and
consent links carry codes and request ids there), the status, the duration and the client address;
never a header, so never an ``Authorization`` header or a cookie.

Behind a reverse proxy, ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are applied (by uvicorn's
``ProxyHeadersMiddleware``, inside this layer) only when the connection comes from an address in
``settings.trusted_proxies``; anyone else could forge them.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import itertools
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from axiom_mcp.settings import Settings

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("axiom_request_id", default=None)
"""The id of the request being served in this task (and the tasks it starts)."""

_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|id_token|token|code|code_verifier|client_secret|password|"
            r"request_id|state|secret|assertion|session)=[^&\s\"']+"
        ),
        r"\1=[redacted]",
    ),
    (
        re.compile(
            r"(?i)([\"'](?:access_token|refresh_token|id_token|token|code|code_verifier|client_secret|password|"
            r"secret)[\"']\s*:\s*[\"'])[^\"']+"
        ),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """Blank out what looks like a credential in free text (a safety net; callers log no secrets)."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_PROCESS_TAG = secrets.token_hex(3)
_REQUEST_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """16 hex digits, unique per process and across processes in practice: a random tag drawn once
    per process, then a counter. A request id correlates log lines and guards nothing, so it needs
    no fresh randomness per request (bench/README.md has what that cost)."""
    return f"{_PROCESS_TAG}{next(_REQUEST_COUNTER) & 0xFFFFFFFFFF:010x}"


def is_trusted_proxy(host: str | None, trusted: Sequence[str]) -> bool:
    """Whether ``host`` is one of ``trusted`` (addresses or CIDR networks; ``*`` trusts everyone)."""
    if not host or not trusted:
        return False
    if list(trusted) == ["*"]:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host in trusted  # a unix socket path or a name, compared as given
    for entry in trusted:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class RequestLog:
    """Outermost ASGI layer: request id, forwarded headers from trusted proxies, one log line per request."""

    def __init__(self, app: ASGIApp, *, service: str, trusted_proxies: Sequence[str] = ()) -> None:
        self.service = service
        # "*" trusts everyone, as uvicorn reads it; normalised so both checks agree.
        self.trusted_proxies = ["*"] if "*" in trusted_proxies else list(trusted_proxies)
        self.app: ASGIApp = (
            ProxyHeadersMiddleware(app, trusted_hosts=self.trusted_proxies) if self.trusted_proxies else app  # type: ignore[arg-type]
        )
        self.log = logging.getLogger("axiom.http")

    def _incoming_id(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        if not is_trusted_proxy(peer[0] if peer else None, self.trusted_proxies):
            return None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1").strip()
                return candidate if _REQUEST_ID_SHAPE.match(candidate) else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = self._incoming_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status: int | None = None
        complete = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, once, with the request id (uvicorn's own report would come after the id is
            # gone). The apps' error middleware has usually sent the 500 already; if not, send it.
            self.log.exception("unhandled error in %s %s", scope.get("method", "WS"), scope.get("path", ""))
            if status is None and scope["type"] == "http":
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_id)
            status = status or 500
        else:
            if status is not None and not complete and scope["type"] == "http":
                # A stream the app gave up on (an SSE stream ended by shutdown): end the response
                # properly, so the client sees the end of the stream rather than a broken connection.
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            client = scope.get("client")  # after ProxyHeadersMiddleware: the forwarded client
            # Load balancers probe /health every few seconds: a healthy answer is not news.
            level = logging.DEBUG if status == 200 and scope.get("path") == "/health" else logging.INFO
            if self.log.isEnabledFor(level):  # not even the record's fields when the line is not kept
                self.log.log(
                    level,
                    "%s %s %s",
                    scope.get("method", "WS"),
                    scope.get("path", ""),
                    status if status is not None else "-",
                    extra={
                        "http": {
                            "service": self.service,
                            "method": scope.get("method", "WS"),
                            "path": scope.get("path", ""),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                            "client": client[0] if client else None,
                            "scheme": scope.get("scheme"),
                        }
                    },
                )
            REQUEST_ID.reset(token)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and any ``http`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            entry.update(http)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(settings: Settings) -> None:
    """Send every log line (ours, uvicorn's, the SDK's) to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    text = settings.log_format == "text" or (settings.log_format == "auto" and sys.stderr.isatty())
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Quiet libraries whose INFO lines are noise here (httpx logs every outgoing URL).
    for name in ("alembic", "httpx", "httpcore", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)
