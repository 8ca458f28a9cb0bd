"""Forgot password: ask for a link by email, set a new password from it, then offer to disconnect apps.

No answer says whether an address has an account: a known and an unknown address get the same
page after the same work (one lookup, a message composed); only a known one gets a link stored
and the message sent, after the response has gone.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import one_time_links, password_reset, users, web_sessions
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.errors import RateLimited, ValidationFailed
from axiom_mcp.mail.message import compose
from axiom_mcp.oauth.consents import list_connected_apps, revoke_connected_app
from axiom_mcp.security.secrets import new_secret
from axiom_mcp.web.mailing import count_mail_request, link_to, mail_folder_hint, send_after
from axiom_mcp.web.visits import Visit, anyone, signed_in

MAX_EMAIL = 320
RESET_PAGE = "/auth/reset"
EXPIRED = "This link has expired or was already used. Ask for a new one: it works for an hour."


@anyone
async def forgot(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.render("forgot.html", title="Forgot your password?", email="", error=None)
    email = visit.form.get("email").strip()[:MAX_EMAIL]

    def again(error: str, status: int, headers: dict[str, str] | None = None) -> Response:
        return visit.render("forgot.html", status=status, headers=headers, title="Forgot your password?",
                            email=email, error=error)

    if "@" not in email:
        return again("Enter the email address of your account.", 400)
    try:
        await count_mail_request(visit)
    except RateLimited as exc:
        return again(exc.message, 429, {"Retry-After": str(exc.retry_after)})
    async with visit.ctx.db.session() as session:
        user = await users.get_user_by_email(session, email)
        if user is not None:
            token = await one_time_links.create_link(session, user.id, "password_reset", user.email)
        else:
            token = new_secret(one_time_links.LINK_PREFIX)  # the same work, a link that opens nothing
    letter = compose("password_reset", users.normalize_email(email), link=link_to(visit, RESET_PAGE, token))
    response = visit.render(
        "mail_sent.html", title="Check your email", heading="Check your email",
        message=f"If an Axiom account uses {email}, we have sent it a link to set a new password.",
        mail_folder=mail_folder_hint(visit), next_path="/auth", next_label="Back to sign in",
    )
    return send_after(response, visit, letter) if user is not None else response


def _expired(visit: Visit) -> Response:
    return visit.render("link_outcome.html", status=400, title="Link expired", heading="This link no longer works",
                        message=EXPIRED, next_path="/auth/forgot", next_label="Ask for a new link")


@anyone
async def reset(request: Request, visit: Visit) -> Response:
    source = visit.form if request.method == "POST" else request.query_params
    token = source.get("token") or ""
    async with visit.ctx.db.session() as session:
        link = await one_time_links.peek_link(session, token, "password_reset")
    if link is None:
        return _expired(visit)

    def form(errors: dict[str, str], status: int = 200) -> Response:
        return visit.render("reset.html", status=status, title="Set a new password", email=link.email,
                            token=token, errors=errors)

    if request.method == "GET":
        return form({})
    new = visit.form.get("new_password")
    if new != visit.form.get("confirm_password"):
        return form({"confirm_password": "The two passwords differ."}, 400)
    try:
        async with visit.ctx.db.session() as session:
            used = await one_time_links.use_link(session, token, "password_reset")
            if used is None:  # used by another tab since the page was shown
                return _expired(visit)
            await password_reset.reset_password(session, used.user_id, new)
            await web_sessions.end_session(session, visit.raw_session)
            raw, _ = await web_sessions.create_session(
                session, used.user_id, visit.ctx.settings.web_session_ttl, visit.request.headers.get("user-agent", ""))
            connected = await list_connected_apps(session, used.user_id)
    except ValidationFailed as exc:
        return form({"new_password": exc.message[:1].upper() + exc.message[1:] + "."}, 400)
    # This process must stop accepting the cached API tokens now, not in a few seconds.
    visit.ctx.tokens.forget(user_id=used.user_id, client_id=FIRST_PARTY_CLIENT_ID)
    response = visit.redirect("/apps/disconnect-all") if connected else visit.redirect("/", notice="password")
    visit.start_session(response, raw)
    return response


@signed_in
async def disconnect_all(request: Request, visit: Visit) -> Response:
    async with visit.ctx.db.session() as session:
        apps = await list_connected_apps(session, visit.user_id)
        if request.method == "GET":
            if not apps:
                return visit.redirect("/apps")
            return visit.render("disconnect_all.html", title="Disconnect your apps?", section="apps", apps=apps)
        for app in apps:
            await revoke_connected_app(session, visit.user_id, app.client_id)
    for app in apps:
        visit.ctx.tokens.forget(user_id=visit.user_id, client_id=app.client_id)
    return visit.redirect("/apps", notice="revoked")


routes = [
    Route("/auth/forgot", forgot, methods=["GET", "POST"], name="forgot_password"),
    Route(RESET_PAGE, reset, methods=["GET", "POST"], name="reset_password"),
    Route("/apps/disconnect-all", disconnect_all, methods=["GET", "POST"], name="disconnect_all"),
]
