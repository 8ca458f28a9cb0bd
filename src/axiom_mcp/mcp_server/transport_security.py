"""Host and Origin checks for the MCP endpoints (DNS-rebinding protection, MCP transports spec).

The MCP specification (basic/transports, "Security Warning") says a server MUST validate the
``Origin`` header of incoming connections, and should bind to loopback when local. A page on an
attacker's site that resolves its own name to 127.0.0.1 (DNS rebinding) would otherwise reach a
local server with the victim's browser. So:

- the ``Host`` header must name this server as configured (``settings.mcp_url``), plus, in the
  development and test environments, ``127.0.0.1``/``localhost``/``[::1]`` with the configured
  port (or the bind port). Allowed hosts come from settings, never from the request.
- an ``Origin`` header, when present (browsers send it), must be the MCP service's own origin or
  one of ``settings.allowed_origins``. Requests without ``Origin`` (every non-browser client) pass.

The SDK has the same check inside each transport (``TransportSecurityMiddleware``); we run ours
once, in front of authentication, and switch the SDK's off, so a misdirected request never costs a
token lookup and the rule lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from axiom_mcp.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lowercased, without a default port (RFC 6454 serialisation)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in an origin
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """Every ``Host`` header value this server answers to, derived from settings only."""
    parts = urlsplit(settings.mcp_url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    hosts = {f"{host}:{port}"}
    if port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        hosts.add(host)  # clients omit a default port from Host
    if settings.environment in ("development", "test"):
        for name in _LOOPBACK_NAMES:
            hosts.add(f"{name}:{port}")
            hosts.add(f"{name}:{settings.mcp_port}")
    return frozenset(hosts)


def allowed_origins(settings: Settings) -> frozenset[str]:
    """Browser origins allowed to call the MCP endpoints: our own and the configured extras."""
    return frozenset({origin_of(settings.mcp_url), *(origin_of(o) for o in settings.allowed_origins)})


@dataclass(frozen=True, slots=True)
class HostOriginPolicy:
    hosts: frozenset[str]
    origins: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> HostOriginPolicy:
        return cls(allowed_hosts(settings), allowed_origins(settings))

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower() in self.hosts

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is None or origin.lower().rstrip("/") in self.origins


class HostOriginGuard:
    """ASGI middleware: 421 for a Host we do not serve, 403 for a browser Origin we do not trust.

    Requests that carry an ``Origin`` (browsers) go on to ``browser_app`` (the endpoint behind
    CORS); the rest, every non-browser client, go straight to ``app``, skipping the CORS layer.
    """

    def __init__(self, app: ASGIApp, policy: HostOriginPolicy, browser_app: ASGIApp | None = None) -> None:
        self.app = app
        self.browser_app = browser_app or app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = origin = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"origin":
                origin = value.decode("latin-1")
        if not self.policy.host_allowed(host):
            await _reject(send, 421, "misdirected_request", "This server does not answer to that Host.")
            return
        if origin is None:
            await self.app(scope, receive, send)
        elif self.policy.origin_allowed(origin):
            await self.browser_app(scope, receive, send)
        else:
            await _reject(send, 403, "forbidden_origin", "Requests from this Origin are not allowed.")


async def _reject(send: Send, status: int, error: str, description: str) -> None:
    body = json.dumps({"error": error, "error_description": description}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
