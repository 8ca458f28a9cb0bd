"""Response headers that keep the pages out of frames and other sites' reach.

Every response gets a Content-Security-Policy with ``frame-ancestors 'none'`` (CSP level 2, section
7.7) and, for browsers that predate it, ``X-Frame-Options: DENY`` (RFC 7034): no page can be framed,
so no click on Allow can be hijacked. Pages carry no script (``default-src 'none'``), except the
few that offer a copy button, which may load Axiom's own ``/static`` scripts and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_HEADER = "content-security-policy"
_SOURCE_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")
_SOURCE_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*$")


def content_security_policy(form_targets: Iterable[str] = (), *, own_scripts: bool = False,
                            posts_from_script: bool = False) -> str:
    """The policy of every page; ``form_targets`` are extra CSP sources a form may end up at;
    ``own_scripts`` lets the page run Axiom's own script files (never inline script), and
    ``posts_from_script`` lets them send requests to this origin (uploads with progress).

    ``form-action`` also governs the redirects that follow a form post (Chromium enforces it), so the
    consent page must name the client's redirect origin or Allow would be blocked.
    """
    form_action = " ".join(["'self'", *form_targets])
    scripts = "script-src 'self'; " if own_scripts else ""
    if posts_from_script:
        scripts += "connect-src 'self'; "
    return (
        f"default-src 'none'; {scripts}style-src 'self'; img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def csp_source(url: str) -> str | None:
    """The CSP source expression (scheme://host:port) of ``url``, or None if it cannot be one safely."""
    try:
        parts = urlsplit(url)
        host_port = parts.netloc.rpartition("@")[2]
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not _SOURCE_SCHEME.match(scheme):
        return None
    if scheme in ("http", "https"):
        if not host_port or not _SOURCE_HOST.match(host_port):
            return None
        return f"{scheme}://{host_port}"
    return f"{scheme}:"  # a custom-scheme redirect (a native app): allow that scheme


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response that lacks them."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        static = scope.get("path", "").startswith(f"{scope.get('root_path', '')}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), https=self.https, cacheable=static)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(headers: MutableHeaders, *, https: bool, cacheable: bool = False) -> None:
    defaults = {
        CSP_HEADER: content_security_policy(),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        # same-origin: the consent page's request id never leaks to the client in a Referer, and
        # our own form posts still carry an Origin header (no-referrer would turn it into "null").
        "referrer-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        # Pages hold personal data and CSRF tokens: never kept by caches or the back button.
        "cache-control": "public, max-age=3600" if cacheable else "no-store",
    }
    if https:
        defaults["strict-transport-security"] = "max-age=31536000"
    for name, value in defaults.items():
        if name not in headers:
            headers[name] = value


PAGE_WITH_SCRIPTS = {CSP_HEADER: content_security_policy(own_scripts=True)}
"""The headers of a page that loads Axiom's own scripts (the copy button of "Connect an AI app")."""

PAGE_WITH_UPLOADS = {CSP_HEADER: content_security_policy(own_scripts=True, posts_from_script=True)}
"""... and of one whose script posts files to this origin (an item's page: uploads.js)."""
