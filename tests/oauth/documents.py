"""A real HTTP server on loopback that serves Client ID Metadata Documents (and misbehaves on demand)."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import running

Answer = Callable[[Request], Awaitable[Response]]


@dataclass
class DocumentServer:
    url: str
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    hosts: dict[str, str] = field(default_factory=dict)

    def new_path(self) -> str:
        return f"/clients/{secrets.token_hex(6)}.json"

    def client_document(self, path: str, *, base: str | None = None, **fields: Any) -> str:
        """Serve a valid document at ``path``; returns its URL (the client_id)."""
        client_id = f"{base or self.url}{path}"
        document = {
            "client_id": client_id,
            "client_name": "Document Client",
            "redirect_uris": ["https://client.example/callback", "http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **fields,
        }
        self.serve_json(path, {k: v for k, v in document.items() if v is not None})
        return client_id

    def serve_json(self, path: str, body: Any) -> None:
        async def answer(_: Request) -> Response:
            return JSONResponse(body)

        self.answers[path] = answer

    def serve(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer


@asynccontextmanager
async def document_server() -> AsyncIterator[DocumentServer]:
    server = DocumentServer(url="")

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        server.hits[path] += 1
        server.hosts[path] = request.headers.get("host", "")
        answer = server.answers.get(path)
        if answer is None:
            return Response("not here", status_code=404)
        return await answer(request)

    app = Starlette(routes=[Route("/{rest:path}", endpoint)])
    async with running(app) as url:
        server.url = url
        yield server


async def sleep_then(seconds: float, response: Response) -> Response:
    await asyncio.sleep(seconds)
    return response
