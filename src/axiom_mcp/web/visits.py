"""Who is asking: the signed-in session (if any), the posted form, and rendering a page for them.

Handlers are wrapped by ``signed_in`` (pages of an account: anonymous visitors go to the login page
and come back) or ``anyone`` (login, sign-up). Both read a post's form and check its CSRF token
before the handler runs, so no handler can forget to.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from axiom_mcp.context import AppContext
from axiom_mcp.data import web_sessions
from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.data.web_sessions import SessionInfo
from axiom_mcp.web import csrf
from axiom_mcp.web.config import WebConfig, web_config
from axiom_mcp.web.forms import Form, Uploads, read_form
from axiom_mcp.web.page_context import mount_base, page_context
from axiom_mcp.web.redirects import login_url

NOTICES = {
    "welcome": "Welcome to Axiom. Your account is ready.",
    "signed_out": "You are signed out.",
    "created": "Created.",
    "saved": "Saved.",
    "profile_saved": "Your name and time zone are saved.",
    "picture_saved": "Your new picture is saved.",
    "picture_removed": "Your picture is removed.",
    "deleted": "Deleted.",
    "attached": "Attached.",
    "file_deleted": "The file is deleted.",
    "revoked": "Disconnected. The app can no longer reach your data.",
    "app_changed": "Saved. The app's next call sees and does only what you chose.",
    "password": "Password changed. Other browsers were signed out.",
    "account_deleted": "Your account and everything in it are deleted.",
    "signed_out_elsewhere": "Every other browser is signed out.",
    "token_revoked": "The API token is revoked. Programs using it can no longer reach your data.",
}
"""Messages a redirect may ask the next page to show (by key only: no text from the URL is shown)."""

NAMED_NOTICES = {
    "created": "Created “{}”.",
    "saved": "Saved “{}”.",
    "restored": "“{}” is back, as it was.",
    "attached": "Attached {}.",
    "file_deleted": "Deleted the file “{}”.",
    "revoked": "Disconnected {}. It can no longer reach your data.",
    "app_changed": "Saved. {}'s next call sees and does only what you chose.",
    "token_revoked": "The API token “{}” is revoked. Programs using it can no longer reach your data.",
}
"""The same notices naming what they speak of: the name rides in the redirect's address, signed
with the session's secret, so no other page or person can make a notice say something."""


def _notice_signature(csrf_secret: str, key: str, name: str) -> str:
    return hmac.new(csrf_secret.encode(), f"notice\x00{key}\x00{name}".encode(), hashlib.sha256).hexdigest()[:32]

DEVICE_COOKIE_AGE = 400 * 24 * 3600
"""The longest a browser keeps a cookie (RFC 6265bis): a device stays trusted while it is used."""


@dataclass
class Visit:
    config: WebConfig
    request: Request
    raw_session: str | None = None
    session: SessionInfo | None = None
    user: ProfileOut | None = None
    form: Form = field(default_factory=Form)
    _anonymous_token: str | None = None
    _new_anonymous_token: bool = False

    @property
    def base(self) -> str:
        """Where the web app is mounted (empty on its own port)."""
        return mount_base(self.request)

    @property
    def ctx(self) -> AppContext:
        return self.config.ctx

    @property
    def user_id(self) -> str:
        assert self.user is not None
        return self.user.id

    def csrf_token(self) -> str:
        if self.session is not None:
            return csrf.session_token(self.session.csrf_secret)
        if self._anonymous_token is None:
            cookie = self.request.cookies.get(self.config.csrf_cookie)
            if csrf.anonymous_token_is_valid(self.config.secret, cookie):
                self._anonymous_token = cookie
            else:
                self._anonymous_token = csrf.new_anonymous_token(self.config.secret)
                self._new_anonymous_token = True
        return self._anonymous_token  # type: ignore[return-value]

    def url(self, path: str, **query: str | int | None) -> str:
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}{path}" + (f"?{urlencode(params)}" if params else "")

    def redirect(self, path: str, *, named: str | None = None, **query: str | int | None) -> RedirectResponse:
        """303 See Other to a path of this app (never to a URL built from the request); ``named``: the
        name its notice says (NAMED_NOTICES)."""
        key = str(query.get("notice") or "")
        if named is not None and key in NAMED_NOTICES and self.session is not None:
            query.update(named=named, sig=_notice_signature(self.session.csrf_secret, key, named))
        return RedirectResponse(self.url(path, **query), status_code=303)

    def notice(self) -> str | None:
        """The notice the address asks for: named only when this session's redirect signed the name."""
        query = self.request.query_params
        key, named = query.get("notice", ""), query.get("named")
        if named is not None and key in NAMED_NOTICES and self.session is not None and hmac.compare_digest(
            query.get("sig", ""), _notice_signature(self.session.csrf_secret, key, named)
        ):
            return NAMED_NOTICES[key].format(named)
        return NOTICES.get(key)

    def go(self, target: str) -> RedirectResponse:
        """303 to ``target``, a full path of this site already checked by ``safe_return_to``."""
        return RedirectResponse(target, status_code=303)

    def render(self, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
               **context: Any) -> HTMLResponse:
        values = page_context(self.request, self.config, user=self.user, csrf_token=self.csrf_token(),
                              notice=self.notice())
        values.update(context)
        html = self.config.templates.get_template(template).render(values)
        return HTMLResponse(html, status_code=status, headers=headers)

    def finish(self, response: Response) -> Response:
        if self._new_anonymous_token and self._anonymous_token is not None:
            response.set_cookie(
                self.config.csrf_cookie,
                self._anonymous_token,
                path="/",
                secure=self.config.secure,
                httponly=True,
                samesite="lax",
            )
        return response

    def start_session(self, response: Response, raw: str) -> None:
        response.set_cookie(
            self.config.session_cookie,
            raw,
            max_age=int(self.ctx.settings.web_session_ttl.total_seconds()),
            path="/",
            secure=self.config.secure,
            httponly=True,
            samesite="lax",
        )

    def remember_device(self, response: Response, value: str) -> None:
        """The device cookie (data/throttle.py): this browser's sign-ins are judged on its own failures."""
        response.set_cookie(
            self.config.device_cookie,
            value,
            max_age=DEVICE_COOKIE_AGE,
            path="/",
            secure=self.config.secure,
            httponly=True,
            samesite="lax",
        )

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            self.config.session_cookie, path="/", secure=self.config.secure, httponly=True, samesite="lax"
        )


async def load_visit(request: Request) -> Visit:
    config = web_config(request)
    visit = Visit(config=config, request=request)
    raw = request.cookies.get(config.session_cookie)
    found = await web_sessions.signed_in(config.ctx.db, raw)
    if found is not None:
        visit.raw_session = raw
        visit.session, visit.user = found
    return visit


Handler = Callable[[Request, Visit], Awaitable[Response]]


Endpoint = Callable[[Request], Awaitable[Response]]


def signed_in(handler: Handler | None = None, *, uploads: Uploads | None = None) -> Any:
    """A page of an account: login first (and come back here); posts need the session's CSRF token.

    ``@signed_in`` for forms, ``@signed_in(uploads=Uploads(...))`` for a page that takes files.
    """

    def wrap(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            visit = await load_visit(request)
            if visit.session is None:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(login_url(visit.base, here), status_code=303)
            if request.method == "POST":
                csrf.check_origin(request, visit.config.origin)
                visit.form = await read_form(request, uploads)
            try:
                if request.method == "POST":
                    csrf.check_session_token(visit.form.get(csrf.FIELD) or None, visit.session.csrf_secret)
                return visit.finish(await handler(request, visit))
            finally:
                for files in visit.form.files.values():
                    for upload in files:
                        await upload.close()

        return endpoint

    return wrap(handler) if handler is not None else wrap


def anyone(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for visitors who may not be signed in; posts need the anonymous (or session) token."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        visit = await load_visit(request)
        if request.method == "POST":
            csrf.check_origin(request, visit.config.origin)
            visit.form = await read_form(request)
            submitted = visit.form.get(csrf.FIELD) or None
            try:  # a signed-in tab posting a form rendered for its session ...
                if visit.session is None:
                    raise csrf.CsrfFailed("not signed in")
                csrf.check_session_token(submitted, visit.session.csrf_secret)
            except csrf.CsrfFailed:  # ... or a form rendered before signing in
                cookie = request.cookies.get(visit.config.csrf_cookie)
                csrf.check_anonymous_token(submitted, cookie, visit.config.secret)
        return visit.finish(await handler(request, visit))

    return endpoint
