"""The profile on the account page: the name, the time zone, and a picture (uploaded, resized, served back)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import avatars, users
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.web.account_page import account_page
from axiom_mcp.web.forms import Uploads
from axiom_mcp.web.visits import Visit, signed_in

AVATAR_UPLOAD = Uploads(max_files=1, max_bytes=avatars.MAX_UPLOAD_BYTES + 64 * 1024)
"""One picture and the form's few fields."""


@signed_in
async def change_profile(request: Request, visit: Visit) -> Response:
    """The name and the time zone."""
    if request.method == "GET":
        return visit.redirect("/account")
    try:
        async with visit.ctx.db.session() as session:
            await users.set_name(session, visit.user_id, visit.form.get("name"))
            if "timezone" in visit.form:
                await users.set_timezone(session, visit.user_id, visit.form.get("timezone"))
    except ValidationFailed as exc:
        field = exc.field or "name"
        return await account_page(visit, status=400, errors={field: exc.message[:1].upper() + exc.message[1:] + "."})
    return visit.redirect("/account", notice="profile_saved")


@signed_in(uploads=AVATAR_UPLOAD)
async def upload_avatar(request: Request, visit: Visit) -> Response:
    if request.method == "GET":
        return visit.redirect("/account")
    if visit.form.get("remove"):
        async with visit.ctx.db.session() as session:
            await avatars.remove_avatar(session, visit.user_id)
        return visit.redirect("/account", notice="picture_removed")
    files = visit.form.files.get("avatar", [])
    raw = await files[0].read(avatars.MAX_UPLOAD_BYTES + 1) if files else b""
    try:
        async with visit.ctx.db.session() as session:
            await avatars.set_avatar(session, visit.user_id, raw)
    except ValidationFailed as exc:
        return await account_page(visit, status=400, errors={"avatar": exc.message[:1].upper() + exc.message[1:] + "."})
    return visit.redirect("/account", notice="picture_saved")


@signed_in
async def avatar_image(request: Request, visit: Visit) -> Response:
    """The signed-in person's own picture (only theirs: there is no id in the address)."""
    async with visit.ctx.db.session() as session:
        picture = await avatars.get_avatar(session, visit.user_id)
    if picture is None:
        raise NotFoundError("No picture.")
    return Response(picture.data, media_type=picture.content_type, headers={"Cache-Control": "private, max-age=300"})


routes = [
    Route("/account/profile", change_profile, methods=["GET", "POST"], name="change_profile"),
    Route("/account/avatar", upload_avatar, methods=["GET", "POST"], name="upload_avatar"),
    Route("/account/avatar.png", avatar_image, methods=["GET"], name="avatar_image"),
]
