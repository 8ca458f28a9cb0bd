"""Every failure of the web app becomes one plain page, rendered here once."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from axiom_mcp.data.undo import NothingToUndo
from axiom_mcp.errors import AxiomError, NotFoundError, RateLimited
from axiom_mcp.web.config import web_config
from axiom_mcp.web.csrf import CsrfFailed
from axiom_mcp.web.forms import FormTooLarge, UnsupportedForm
from axiom_mcp.web.page_context import page_context
from axiom_mcp.web.security import add_security_headers

log = logging.getLogger("axiom.web")

PAGES: dict[int, tuple[str, str]] = {
    400: ("Something is wrong with this request", "Go back and try again."),
    403: ("This form has expired", "Go back, reload the page and try again. Forms work only on this site."),
    404: ("Page not found", "The page does not exist, or it is not yours."),
    405: ("This page cannot do that", "Go back and use the page's buttons."),
    409: ("That cannot be done now", "Go back, reload the page and look again."),
    410: ("Too late to undo", "A delete can be undone for a short while only."),
    413: ("That was too much to send", "Shorten what you typed and try again."),
    415: ("This form was sent in a way we do not accept", "Use the page's form."),
    429: ("Too many attempts", "Wait a little and try again."),
    500: ("Something went wrong on our side", "Try again in a moment."),
    503: ("That took too long", "Narrow your search and try again."),
}


def error_page(request: Request, status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A standalone page (no session lookup: an error must not depend on the database)."""
    heading, hint = PAGES.get(status, PAGES[400])
    try:
        config = web_config(request)
        values = page_context(request, config, title=heading)
        html = config.templates.get_template("error.html").render(
            values, heading=heading, message=message or "", hint=hint
        )
    except Exception:  # noqa: BLE001 - even a broken template must not turn a 404 into a 500
        log.exception("could not render the error page")
        html = f"<!doctype html><title>{heading}</title><h1>{heading}</h1><p>{hint}</p>"
    response = HTMLResponse(html, status_code=status, headers=headers)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, headers=getattr(exc, "headers", None))


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404)


async def _csrf(request: Request, exc: Exception) -> Response:
    return error_page(request, 403)


async def _too_large(request: Request, exc: Exception) -> Response:
    return error_page(request, 413)


async def _unsupported(request: Request, exc: Exception) -> Response:
    return error_page(request, 415)


async def _axiom(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AxiomError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_page(request, exc.status_code if exc.status_code in PAGES else 400, exc.message, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    response = error_page(request, 500)
    # Runs outside the middleware stack (Starlette's ServerErrorMiddleware): add the headers here.
    add_security_headers(response.headers, https=web_config(request).secure)
    return response


EXCEPTION_HANDLERS = {
    HTTPException: _http_error,
    NotFoundError: _not_found,
    NothingToUndo: _axiom,  # says why, unlike a page that is not found
    CsrfFailed: _csrf,
    FormTooLarge: _too_large,
    UnsupportedForm: _unsupported,
    AxiomError: _axiom,
    Exception: _unexpected,
}
