"""A tiny round-robin reverse proxy: what a load balancer in front of several instances looks like.

Every request goes to the next upstream in turn, with no affinity of any kind, and its response
(SSE streams included) is streamed back unbuffered. The Host header is passed on, as nginx's
``proxy_set_header Host $host`` does: the instances check it against their public URL, which is
this proxy's. Like deploy/nginx/axiom.conf it sets X-Forwarded-For/-Proto and X-Request-ID.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


CLIENT_ADDRESS = "192.0.2.10"
"""Where this balancer says every request came from (a documentation address, RFC 5737): the
instances believe it only because they list the balancer in AXIOM_TRUSTED_PROXIES."""


@dataclass
class RoundRobinProxy:
    upstreams: list[str]
    served: list[tuple[str, str, str]] = field(default_factory=list)
    """(upstream, method, path) of every request, in order."""
    request_ids: list[str] = field(default_factory=list)
    """The X-Request-ID this balancer gave each request, as nginx's $request_id would."""

    def __post_init__(self) -> None:
        self._next = itertools.cycle(self.upstreams)
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(60, read=300), follow_redirects=False)

    def served_by(self, upstream: str, path: str, method: str | None = None) -> int:
        return sum(1 for u, m, p in self.served if u == upstream and p == path and method in (None, m))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        upstream = next(self._next)
        self.served.append((upstream, request.method, request.url.path))
        request_id = f"lb-{len(self.served)}-{secrets.token_hex(4)}"
        self.request_ids.append(request_id)
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in _HOP_BY_HOP and not k.lower().startswith("x-forwarded-") and k.lower() != "x-request-id"
        ]
        headers += [("X-Forwarded-For", CLIENT_ADDRESS), ("X-Forwarded-Proto", "http"), ("X-Request-ID", request_id)]
        outgoing = self._client.build_request(
            request.method,
            upstream + request.url.path,
            params=request.url.query or None,
            headers=headers,
            content=await request.body() or None,
        )
        response = await self._client.send(outgoing, stream=True)
        out_headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
        streamed = StreamingResponse(
            response.aiter_raw(), status_code=response.status_code, background=BackgroundTask(response.aclose)
        )
        streamed.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers]
        await streamed(scope, receive, send)

