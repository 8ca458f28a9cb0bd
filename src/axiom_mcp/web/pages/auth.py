"""Login, sign-up, logout and password change (the original's ``/auth`` page and more)."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import signup_throttle, throttle, users, web_sessions
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.errors import AuthenticationFailed, ConflictError, RateLimited, ValidationFailed
from axiom_mcp.web.account_page import account_page
from axiom_mcp.web.forms import field_errors
from axiom_mcp.web.mailing import send_after
from axiom_mcp.web.pages.email import verification_letter
from axiom_mcp.web.redirects import landing, safe_return_to
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, anyone, signed_in

MAX_EMAIL = 320


def _return_to(visit: Visit) -> str:
    value = visit.form.get("return_to") if visit.request.method == "POST" else visit.request.query_params.get("return_to")
    return safe_return_to(value) or ""


def _again(visit: Visit) -> bool:
    """Asked to sign in again (an app's ``prompt=login``): the form is shown even to a signed-in user."""
    source = visit.form if visit.request.method == "POST" else visit.request.query_params
    return source.get("prompt") == "login"


async def _sign_in(visit: Visit, user_id: str, target: str) -> Response:
    """A fresh session (never the one the browser came with: no session fixation) and the redirect."""
    zone = visit.form.get("timezone")
    async with visit.ctx.db.session() as session:
        if users.known_timezone(zone):  # the browser's own, sent by static/timezone.js
            await users.set_timezone(session, user_id, zone, only_if_unset=True)
        await web_sessions.end_session(session, visit.raw_session)
        raw, _ = await web_sessions.create_session(
            session, user_id, visit.ctx.settings.web_session_ttl, visit.request.headers.get("user-agent", ""))
    response = visit.go(target)
    visit.start_session(response, raw)
    return response


@anyone
async def login(request: Request, visit: Visit) -> Response:
    return_to = _return_to(visit)
    again_asked = _again(visit)
    if request.method == "GET":
        if visit.user is not None and not again_asked:
            return visit.go(landing(return_to, visit.url("/")))
        email = visit.user.email if visit.user is not None else ""
        return visit.render("login.html", title="Sign in", return_to=return_to, email=email, error=None,
                            again=again_asked, headers=PAGE_WITH_SCRIPTS)

    email = visit.form.get("email").strip()[:MAX_EMAIL]
    password = visit.form.get("password")[: users.PASSWORD_MAX]

    def again(error: str, status: int, headers: dict[str, str] | None = None) -> Response:
        return visit.render("login.html", status=status, headers={**PAGE_WITH_SCRIPTS, **(headers or {})}, title="Sign in",
                            return_to=return_to, email=email, error=error, again=again_asked)

    if not email or not password:
        return again("Enter your email and password.", 400)
    address = request.client.host if request.client else None
    device = request.cookies.get(visit.config.device_cookie)
    try:
        # Throttled per account (per device instead, for a browser that signed in before) and address.
        user = await throttle.authenticate(visit.ctx.db, visit.ctx.settings, email, password, address, device)
    except RateLimited as exc:
        return again(exc.message, 429, {"Retry-After": str(exc.retry_after)})
    except AuthenticationFailed:
        return again(users.BAD_LOGIN, 401)
    response = await _sign_in(visit, user.id, landing(return_to, visit.url("/")))
    visit.remember_device(response, throttle.device_cookie(visit.ctx.settings, email, device))
    return response


@anyone
async def signup(request: Request, visit: Visit) -> Response:
    return_to = _return_to(visit)
    if request.method == "GET":
        if visit.user is not None:
            return visit.go(landing(return_to, visit.url("/")))
        return visit.render("signup.html", title="Create your account", return_to=return_to,
                            values={"name": "", "email": ""}, errors={}, headers=PAGE_WITH_SCRIPTS)

    values = {"name": visit.form.get("name"), "email": visit.form.get("email").strip()}
    errors: dict[str, str] = {}
    status, headers = 400, None
    address = request.client.host if request.client else None
    try:
        data = users.SignUp(email=values["email"], password=visit.form.get("password"), name=values["name"])
        # Throttled per address (shared with the API's sign-up), counted before the password is hashed.
        user = await signup_throttle.sign_up(visit.ctx.db, visit.ctx.settings, data, address)
    except ValidationError as exc:
        errors = field_errors(exc)
    except ConflictError:
        errors = {"email": "An account with this email already exists. Sign in instead."}
    except RateLimited as exc:
        errors = {"form": exc.message}
        status, headers = 429, {"Retry-After": str(exc.retry_after)}
    if errors:
        return visit.render("signup.html", status=status, headers={**PAGE_WITH_SCRIPTS, **(headers or {})},
                            title="Create your account",
                            return_to=return_to, values=values, errors=errors)
    letter = await verification_letter(visit, users.profile_out(user))
    return send_after(await _sign_in(visit, user.id, landing(return_to, visit.url("/", notice="welcome"))),
                      visit, letter)


@signed_in
async def logout(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.render("logout.html", title="Sign out", return_to=_return_to(visit))
    async with visit.ctx.db.session() as session:
        await web_sessions.end_session(session, visit.raw_session)
    target = _return_to(visit)
    response = visit.go(target) if target else visit.redirect("/auth", notice="signed_out")
    visit.end_session(response)
    return response


@signed_in
async def account(request: Request, visit: Visit) -> Response:
    return await account_page(visit)


@signed_in
async def change_password(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/account")
    current = visit.form.get("current_password")
    new = visit.form.get("new_password")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "Enter your current password."
    if new != visit.form.get("confirm_password"):
        errors["confirm_password"] = "The two new passwords differ."
    if not errors:
        try:
            async with visit.ctx.db.session() as session:
                await users.change_password(session, visit.user_id, current, new)
                assert visit.session is not None
                await web_sessions.end_other_sessions(session, visit.user_id, visit.session.session_id)
        except ValidationFailed as exc:
            name = {"current_password": "current_password"}.get(exc.field or "", "new_password")
            message = exc.message[:1].upper() + exc.message[1:]
            errors[name] = message if message.endswith(".") else message + "."
    if errors:
        return await account_page(visit, status=400, errors=errors)
    visit.ctx.tokens.forget(user_id=visit.user_id, client_id=FIRST_PARTY_CLIENT_ID)  # the API tokens died with it
    return visit.redirect("/account", notice="password")


routes = [
    Route("/auth", login, methods=["GET", "POST"], name="login"),
    Route("/auth/signup", signup, methods=["GET", "POST"], name="signup"),
    Route("/auth/logout", logout, methods=["GET", "POST"], name="logout"),
    Route("/account", account, methods=["GET"], name="account"),
    Route("/account/password", change_password, methods=["GET", "POST"], name="change_password"),
]
