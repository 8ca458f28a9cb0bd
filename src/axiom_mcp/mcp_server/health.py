"""``GET /health``: whether this MCP service can reach its database (the original's health check).

Public and outside the Host check, so load balancers can probe it by address.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from axiom_mcp import __version__
from axiom_mcp.context import AppContext
from axiom_mcp.data.health import reachable


def health_endpoint(ctx: AppContext):  # type: ignore[no-untyped-def]
    async def health(_request: Request) -> JSONResponse:
        up = await reachable(ctx.db)
        body = {"status": "ok" if up else "unavailable", "service": "mcp", "version": __version__,
                "database": "ok" if up else "unreachable"}
        return JSONResponse(body, status_code=200 if up else 503, headers={"Cache-Control": "no-store"})

    return health
