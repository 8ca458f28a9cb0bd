"""Rendering errors of the REST API once: every failure is a JSON body naming what was wrong.

PocketBase's shape: ``{"status", "message", "data": {field: {"code", "message"}}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from axiom_mcp.auth_service.rest_api.auth import REALM, TokenMissing
from axiom_mcp.errors import AxiomError, PermissionDenied, RateLimited


class UnsupportedMediaType(AxiomError):
    """A request body that is not JSON."""

    status_code = 415
    code = "unsupported_media_type"


def error_body(status: int, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": status, "message": message, "data": data or {}}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _axiom_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AxiomError)
    data = {exc.field: {"code": exc.code, "message": exc.message}} if exc.field else {}
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    # RFC 6750 section 3: no error code when no token came; invalid_token / insufficient_scope otherwise.
    if isinstance(exc, TokenMissing):
        headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    elif exc.status_code == 401:
        headers["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="invalid_token"'
    if isinstance(exc, PermissionDenied):
        headers["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{exc.scope or ""}"'
    return JSONResponse(error_body(exc.status_code, exc.message, data), exc.status_code, headers=headers)


_NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type"}


def _invalid(errors: Any) -> JSONResponse:
    data: dict[str, Any] = {}
    for err in errors:
        loc = tuple(err.get("loc", ()))
        field = "body" if err.get("type") == "json_invalid" else _field_name(loc)
        message = err.get("msg", "invalid value")
        if field == "body" and err.get("type") in _NOT_AN_OBJECT:
            message = "The body must be a JSON object."
        elif field == "body" and err.get("type") == "missing":
            message = "A JSON body is required."
        data.setdefault(field, {"code": err.get("type", "invalid"), "message": message})
    fields = ", ".join(data) or "the request"
    return JSONResponse(error_body(400, f"Invalid value for {fields}.", data), 400)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid(exc.errors())


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # The framework raises 400 only for a body it cannot decode and 413 for one too large.
    data = {"body": {"code": "invalid_body", "message": str(exc.detail)}} if exc.status_code in (400, 413) else {}
    return JSONResponse(
        error_body(exc.status_code, str(exc.detail), data), exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body(500, "Something went wrong on our side."), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AxiomError, _axiom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
