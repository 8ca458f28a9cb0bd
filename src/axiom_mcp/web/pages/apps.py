"""Connected apps: every client the user has allowed, with its scopes, last use and what it did
lately (a chart of calls per day and its latest actions); Disconnect."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import activity
from axiom_mcp.data.activity import ActionOut
from axiom_mcp.data.schemas import MAX_PAGE, Page
from axiom_mcp.errors import NotFoundError
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.consents import ConnectedApp, list_connected_apps, revoke_connected_app
from axiom_mcp.web.charts import calls_per_day_chart
from axiom_mcp.web.pages.consent import scope_words
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, signed_in


CHART_DAYS = 30
LATEST = 5
ACTIVITY_PER_PAGE = 50


@dataclass(frozen=True)
class AppActivity:
    chart: Markup
    latest: Page[ActionOut]


def _shown(app: ConnectedApp, lately: activity.Summary) -> AppActivity:
    return AppActivity(calls_per_day_chart(lately.days, label=f"Calls by {app.client_name} per day"), lately.latest)


@signed_in
async def connected_apps(request: Request, visit: Visit) -> Response:
    async with visit.ctx.db.session() as session:
        apps = await list_connected_apps(session, visit.user_id)
        today = utcnow().date()
        shown = [
            (app, scope_words(app.scopes), _shown(app, await activity.summary(
                session, visit.user_id, app.client_id, days=CHART_DAYS, today=today, latest_count=LATEST)))
            for app in apps
        ]
    return visit.render(
        "apps.html",
        title="Connected apps",
        section="apps",
        apps=shown,
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


async def _connected_app(visit: Visit, client_id: str) -> ConnectedApp:
    """One of the person's connected apps, or NotFoundError (another person's app is not found)."""
    async with visit.ctx.db.session() as session:
        apps = await list_connected_apps(session, visit.user_id)
    app = next((a for a in apps if a.client_id == client_id), None)
    if app is None:
        raise NotFoundError("No such connected app.")
    return app


@signed_in
async def confirm_disconnect(request: Request, visit: Visit) -> Response:
    """Disconnecting is one more click away, on a page that says what it does."""
    app = await _connected_app(visit, request.query_params.get("client_id", ""))
    return visit.render("app_disconnect.html", title=f"Disconnect {app.client_name}?", section="apps", app=app)


@signed_in
async def app_activity(request: Request, visit: Visit) -> Response:
    """Everything one connected app did, newest first, a page at a time."""
    client_id = request.query_params.get("client_id", "")
    page = request.query_params.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) <= MAX_PAGE else 1
    app = await _connected_app(visit, client_id)
    async with visit.ctx.db.session() as session:
        actions = await activity.latest(session, visit.user_id, client_id, page=number, per_page=ACTIVITY_PER_PAGE)
    return visit.render(
        "app_activity.html", title=f"What {app.client_name} did", section="apps", app=app, actions=actions,
    )


routes = [
    Route("/apps", connected_apps, methods=["GET"], name="apps"),
    Route("/apps/activity", app_activity, methods=["GET"], name="app_activity"),
    Route("/apps/disconnect", confirm_disconnect, methods=["GET"], name="confirm_disconnect"),
    Route("/apps/revoke", revoke, methods=["GET", "POST"], name="revoke_app"),
]
