"""See as the app: the items a client profile lets a connection see (``/clients/{id}/items``).

The page lists exactly what an app restricted to that profile gets from its list tool, through
the same data-layer view (``access.profile_view``); the Connected apps page links here for the
profile an app is restricted to.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import access, records
from axiom_mcp.data.kinds import CLIENTS, ITEMS
from axiom_mcp.data.schemas import MAX_QUERY, is_record_id
from axiom_mcp.errors import NotFoundError
from axiom_mcp.web.pages.records import page_query
from axiom_mcp.web.visits import Visit, signed_in


@signed_in
async def profile_items(request: Request, visit: Visit) -> Response:
    profile_id = str(request.path_params["record_id"])
    if not is_record_id(profile_id):
        raise NotFoundError("no such record")
    params = page_query(request)
    async with visit.ctx.db.session() as session:
        profile = await records.get_record(CLIENTS, session, visit.user_id, profile_id)
        view = await access.profile_view(session, visit.user_id, profile_id)
    page = await records.list_records(ITEMS, visit.ctx.db, view, params)
    return visit.render("profile_items.html", title=f"What {profile.name} sees", section=CLIENTS.many,
                        profile=profile, page=page, q=params.q, max_query=MAX_QUERY)


routes = [Route("/clients/{record_id}/items", profile_items, methods=["GET"], name="profile_items")]
