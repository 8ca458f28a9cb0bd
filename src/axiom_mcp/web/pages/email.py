"""A person's email address: confirming it (mailed at sign-up, resent from the account page) and
changing it (the new address confirms with a mailed link; the old one is told)."""

from __future__ import annotations

from pydantic import EmailStr, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import email_addresses, one_time_links, users
from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.errors import ConflictError, RateLimited
from axiom_mcp.mail import links
from axiom_mcp.mail.message import Letter, compose
from axiom_mcp.web.account_page import account_page
from axiom_mcp.web.mailing import count_mail_request, link_to, mail_folder_hint, send_after
from axiom_mcp.web.visits import Visit, anyone, signed_in

VERIFY_PAGE = links.VERIFY_PAGE
CONFIRM_CHANGE_PAGE = "/account/email/confirm"
MAX_EMAIL = 320
_email = TypeAdapter(EmailStr)


async def verification_letter(visit: Visit, user: ProfileOut) -> Letter:
    """A new confirmation link for the user's address, in the message that carries it."""
    return await links.verification_letter(visit.ctx.db, visit.ctx.settings, user)


def _sent(visit: Visit, message: str) -> Response:
    return visit.render("mail_sent.html", title="Check your email", heading="Check your email", message=message,
                        mail_folder=mail_folder_hint(visit), next_path="/account", next_label="Back to your account")


def _outcome(visit: Visit, heading: str, message: str, status: int = 200) -> Response:
    target = ("/account", "Go to your account") if visit.user is not None else ("/auth", "Sign in")
    return visit.render("link_outcome.html", status=status, title=heading, heading=heading, message=message,
                        next_path=target[0], next_label=target[1])


def _expired(visit: Visit) -> Response:
    return _outcome(visit, "This link no longer works",
                    "It has expired or was already used. Ask for a new one on your account page.", 400)


def _too_many(visit: Visit, exc: RateLimited) -> Response:
    response = _outcome(visit, "Too many requests", exc.message, 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@signed_in
async def resend_verification(request: Request, visit: Visit) -> Response:
    assert visit.user is not None
    if request.method == "GET" or visit.user.verified:
        return visit.redirect("/account")
    try:
        await count_mail_request(visit)
    except RateLimited as exc:
        return _too_many(visit, exc)
    letter = await verification_letter(visit, visit.user)
    return send_after(_sent(visit, f"We have sent a link to {visit.user.email}. Open it to confirm the address."),
                      visit, letter)


@anyone
async def verify(request: Request, visit: Visit) -> Response:
    async with visit.ctx.db.session() as session:
        link = await one_time_links.use_link(session, request.query_params.get("token"), "verify_email")
        confirmed = link is not None and await email_addresses.confirm_email(session, link.user_id, link.email)
    if link is None or not confirmed:
        return _expired(visit)
    return _outcome(visit, "Email confirmed", f"{link.email} is confirmed as the address of your Axiom account.")


@signed_in
async def change_email(request: Request, visit: Visit) -> Response:
    assert visit.user is not None
    if request.method == "GET":
        return visit.redirect("/account")
    new_email = visit.form.get("new_email").strip()[:MAX_EMAIL]
    errors: dict[str, str] = {}
    try:
        new_email = str(_email.validate_python(new_email)).lower()
    except ValidationError:
        errors["new_email"] = "Enter an email address, like name@example.com."
    if not errors and new_email == visit.user.email:
        errors["new_email"] = "This is already your email."
    async with visit.ctx.db.session() as session:
        if not await email_addresses.password_matches(session, visit.user_id, visit.form.get("email_password")):
            errors["email_password"] = "The password is wrong."
        elif not errors and await email_addresses.email_in_use(session, new_email):
            errors["new_email"] = email_addresses.TAKEN
    if errors:
        return await account_page(visit, status=400, errors=errors, new_email=new_email)
    try:
        await count_mail_request(visit)
    except RateLimited as exc:
        return _too_many(visit, exc)
    async with visit.ctx.db.session() as session:
        token = await one_time_links.create_link(session, visit.user_id, "change_email", new_email)
    letter = compose("change_email", new_email, old=visit.user.email, name=visit.user.name,
                     link=link_to(visit, CONFIRM_CHANGE_PAGE, token))
    return send_after(_sent(visit, f"We have sent a link to {new_email}. Your email changes when you open it; "
                                   f"until then you sign in with {visit.user.email}."), visit, letter)


@anyone
async def confirm_change(request: Request, visit: Visit) -> Response:
    """The link's page asks before it acts (mail scanners open links; only a person presses the button)."""
    source = visit.form if request.method == "POST" else request.query_params
    token = source.get("token") or ""
    async with visit.ctx.db.session() as session:
        link = await one_time_links.peek_link(session, token, "change_email")
    if link is None:
        return _expired(visit)
    if request.method == "GET":
        return visit.render("email_confirm.html", title="Change your email", email=link.email, token=token)
    try:
        async with visit.ctx.db.session() as session:
            used = await one_time_links.use_link(session, token, "change_email")
            if used is None:
                return _expired(visit)
            old = await email_addresses.change_email(session, used.user_id, used.email)
            profile = await users.get_profile(session, used.user_id)
    except ConflictError:
        return _outcome(visit, "This address is taken", "Another account started using it meanwhile.", 409)
    notice = compose("email_changed", old, new=used.email, name=profile.name)
    response = _outcome(visit, "Email changed", f"Your Axiom account now uses {used.email}. "
                                                 f"We told {old} about the change.")
    return send_after(response, visit, notice)


routes = [
    Route("/account/email", change_email, methods=["GET", "POST"], name="change_email"),
    Route("/account/email/verify", resend_verification, methods=["GET", "POST"], name="resend_verification"),
    Route(CONFIRM_CHANGE_PAGE, confirm_change, methods=["GET", "POST"], name="confirm_email_change"),
    Route(VERIFY_PAGE, verify, methods=["GET"], name="verify_email"),
]
