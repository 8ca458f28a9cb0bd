"""Connected apps: every client the user has allowed, with its scopes and last use; Disconnect."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.oauth.consents import list_connected_apps, revoke_connected_app
from axiom_mcp.web.pages.consent import scope_words
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, signed_in


@signed_in
async def connected_apps(request: Request, visit: Visit) -> Response:
    async with visit.ctx.db.session() as session:
        apps = await list_connected_apps(session, visit.user_id)
    return visit.render(
        "apps.html",
        title="Connected apps",
        section="apps",
        apps=[(app, scope_words(app.scopes)) for app in apps],
        mcp_url=visit.ctx.settings.mcp_resource,
        headers=PAGE_WITH_SCRIPTS,
    )


@signed_in
async def revoke(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/apps")
    client_id = visit.form.get("client_id")
    async with visit.ctx.db.session() as session:
        await revoke_connected_app(session, visit.user_id, client_id)  # NotFoundError: a 404 page
    # This process must stop accepting the app's cached tokens now, not in a few seconds.
    visit.ctx.tokens.forget(user_id=visit.user_id, client_id=client_id)
    return visit.redirect("/apps", notice="revoked")


routes = [
    Route("/apps", connected_apps, methods=["GET"], name="apps"),
    Route("/apps/revoke", revoke, methods=["GET", "POST"], name="revoke_app"),
]
