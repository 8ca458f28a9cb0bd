"""Who is signed in to the account: browsers (sign out one, or everywhere else) and API tokens
(make a named one, revoke any). The account page lists both (web/account_page.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import tokens, web_sessions
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.web.account_page import account_page
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, signed_in

TOKEN_NAME_MAX = 100


@signed_in
async def sign_out_others(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/account")
    assert visit.session is not None
    async with visit.ctx.db.session() as session:
        await web_sessions.end_other_sessions(session, visit.user_id, visit.session.session_id)
    return visit.redirect("/account", notice="signed_out_elsewhere")


@signed_in
async def create_token(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/account")
    name = " ".join(visit.form.get("token_name").split())
    if not name or len(name) > TOKEN_NAME_MAX:
        error = "Give the token a name." if not name else f"Use at most {TOKEN_NAME_MAX} characters."
        return await account_page(visit, status=400, errors={"token_name": error})
    async with visit.ctx.db.session() as session:
        raw, info = await tokens.issue_api_token(session, visit.ctx.settings, visit.user_id, name)
    return visit.render("account_token.html", title="Your new API token", section="account", name=name,
                        token=raw, expires=info.expires, api_url=f"{visit.ctx.settings.public_url}/api/v1",
                        headers=PAGE_WITH_SCRIPTS)


@signed_in
async def revoke_token(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/account")
    async with visit.ctx.db.session() as session:
        name = await tokens.revoke_api_token(session, visit.user_id, visit.form.get("token_id")[:64])  # NotFoundError: 404
    visit.ctx.tokens.forget(user_id=visit.user_id, client_id=FIRST_PARTY_CLIENT_ID)
    return visit.redirect("/account", notice="token_revoked", named=name or None)


routes = [
    Route("/account/sessions/others", sign_out_others, methods=["GET", "POST"], name="sign_out_others"),
    Route("/account/tokens", create_token, methods=["GET", "POST"], name="create_token"),
    Route("/account/tokens/revoke", revoke_token, methods=["GET", "POST"], name="revoke_token"),
]
