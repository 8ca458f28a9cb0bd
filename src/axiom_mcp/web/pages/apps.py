"""Connected apps: every client the user has allowed, with what it can see (all items, or a client
profile: its name, tags and how many items that is), what it may do, its last use and what it did
lately (a chart of calls per day and its latest actions); a form to change what it sees and does
(fewer scopes only), effective on its next call; Disconnect."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import activity, undo
from axiom_mcp.data.activity import ActionOut
from axiom_mcp.data.profiles import Profile, user_profiles, user_tags
from axiom_mcp.data.schemas import MAX_PAGE, Page
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.consents import (
    Choice,
    ConnectedApp,
    change_connection,
    list_connected_apps,
    revoke_connected_app,
)
from axiom_mcp.web.charts import calls_per_day_chart
from axiom_mcp.web.pages.consent import Chosen, scope_words
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, signed_in


CHART_DAYS = 30
LATEST = 5
ACTIVITY_PER_PAGE = 50


@dataclass(frozen=True)
class AppActivity:
    chart: Markup
    latest: Page[ActionOut]


@dataclass(frozen=True)
class AppShown:
    app: ConnectedApp
    scopes: list[tuple[str, str]]
    profile: Profile | None
    """The profile a restricted app sees through; None when it sees everything or its profile is gone."""
    chosen: Chosen
    """The change form's choices: what it has now, or what was just refused."""
    error: str
    lately: AppActivity


def _lately(app: ConnectedApp, summary: activity.Summary) -> AppActivity:
    return AppActivity(calls_per_day_chart(summary.days, label=f"Calls by {app.client_name} per day"), summary.latest)


async def _page(visit: Visit, refused: tuple[str, Chosen, str] | None = None) -> Response:
    """The page; ``refused`` is (client id, the posted choices, why) for a change that was refused."""
    async with visit.ctx.db.session() as session:
        apps = await list_connected_apps(session, visit.user_id)
        today = utcnow().date()
        summaries = [await activity.summary(session, visit.user_id, app.client_id, days=CHART_DAYS, today=today,
                                            latest_count=LATEST) for app in apps]
        profiles = await user_profiles(session, visit.user_id)
        tags = await user_tags(session, visit.user_id)
        deleted = await undo.undoable(session, visit.user_id, visit.ctx.settings.undo_window)
    by_id = {p.id: p for p in profiles}
    shown = []
    for app, summary in zip(apps, summaries, strict=True):
        now = Chosen.last_time(Choice(app.scopes, app.restricted, app.profile_id), app.scopes)
        chosen, error = (refused[1], refused[2]) if refused and refused[0] == app.client_id else (now, "")
        shown.append(AppShown(app, scope_words(app.scopes), by_id.get(app.profile_id or ""), chosen, error,
                              _lately(app, summary)))
    return visit.render(
        "apps.html",
        status=400 if refused else 200,
        title="Connected apps",
        section="apps",
        apps=shown,
        profiles=profiles,
        tags=tags,
        mcp_url=visit.ctx.settings.mcp_resource,
        undoable=deleted,
        headers=PAGE_WITH_SCRIPTS,
    )


@signed_in
async def connected_apps(request: Request, visit: Visit) -> Response:
    return await _page(visit)


@signed_in
async def change(request: Request, visit: Visit) -> Response:
    """Fewer scopes and what the app sees, for its live tokens from their next call."""
    if request.method == "GET":
        return visit.redirect("/apps")
    app = await _connected_app(visit, visit.form.get("client_id"))  # NotFoundError: a 404 page
    chosen = Chosen.posted(visit.form)
    try:
        async with visit.ctx.db.session() as session:
            await change_connection(session, visit.user_id, app.client_id, chosen.scopes, chosen.to_sees(),
                                    app.client_name)
    except ValidationFailed as exc:
        return await _page(visit, (app.client_id, chosen, exc.message))
    # This process applies it now; other instances within the token cache bound.
    visit.ctx.tokens.forget(user_id=visit.user_id, client_id=app.client_id)
    visit.ctx.views.forget(visit.user_id, app.client_id)
    return visit.redirect("/apps", notice="app_changed", named=app.client_name)


@signed_in
async def revoke(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/apps")
    app = await _connected_app(visit, visit.form.get("client_id"))  # NotFoundError: a 404 page
    client_id = app.client_id
    async with visit.ctx.db.session() as session:
        await revoke_connected_app(session, visit.user_id, client_id)
    # This process must stop accepting the app's cached tokens now, not in a few seconds.
    visit.ctx.tokens.forget(user_id=visit.user_id, client_id=client_id)
    visit.ctx.views.forget(visit.user_id, client_id)
    return visit.redirect("/apps", notice="revoked", named=app.client_name)


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
        deleted = await undo.undoable(session, visit.user_id, visit.ctx.settings.undo_window)
    return visit.render(
        "app_activity.html", title=f"What {app.client_name} did", section="apps", app=app, actions=actions,
        undoable=deleted,
    )


routes = [
    Route("/apps", connected_apps, methods=["GET"], name="apps"),
    Route("/apps/activity", app_activity, methods=["GET"], name="app_activity"),
    Route("/apps/change", change, methods=["GET", "POST"], name="change_app"),
    Route("/apps/disconnect", confirm_disconnect, methods=["GET"], name="confirm_disconnect"),
    Route("/apps/revoke", revoke, methods=["GET", "POST"], name="revoke_app"),
]
