"""The dashboard: the profile, how much is stored, the latest items, and where to go next."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.oauth.consents import list_connected_apps
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS
from axiom_mcp.web.visits import Visit, signed_in

RECENT = 5


@signed_in
async def dashboard(request: Request, visit: Visit) -> Response:
    user_id = visit.user_id
    db = visit.ctx.db
    items = await records.list_records(ITEMS, db, user_id, PageQuery(perPage=RECENT))
    clients = await records.list_records(CLIENTS, db, user_id, PageQuery(perPage=1))
    tags = await records.list_records(TAGS, db, user_id, PageQuery(perPage=1))
    async with db.session() as session:
        apps = await list_connected_apps(session, user_id)
    counts = [
        ("items", "Items", items.totalItems),
        ("clients", "Clients", clients.totalItems),
        ("tags", "Tags", tags.totalItems),
        ("apps", "Connected apps", len(apps)),
    ]
    return visit.render(
        "dashboard.html", title="Dashboard", section="home", counts=counts, recent=items.items,
        mcp_url=visit.ctx.settings.mcp_resource, headers=PAGE_WITH_SCRIPTS,
    )


routes = [Route("/", dashboard, methods=["GET"], name="dashboard")]
