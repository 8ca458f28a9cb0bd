"""Your data: download everything as one archive, or delete the account and everything with it."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from axiom_mcp.data import archive, files, users
from axiom_mcp.errors import AuthenticationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.web.visits import Visit, signed_in

_IN_MEMORY = 8 * 1024 * 1024
"""Archives up to this size are built in memory; larger ones spill to a temporary file."""
_CHUNK = 256 * 1024


@signed_in
async def export(request: Request, visit: Visit) -> Response:
    """The person's archive as a download (a POST: it is built for them, and carries a CSRF token)."""
    if request.method == "GET":
        return visit.redirect("/account")
    spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - closed by the stream
    async with visit.ctx.db.session() as session:
        await archive.write_archive(session, visit.user_id, spool)
    spool.seek(0)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := spool.read(_CHUNK):
                yield chunk
        finally:
            spool.close()

    name = f"axiom-export-{utcnow():%Y-%m-%d}.zip"
    return StreamingResponse(chunks(), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@signed_in
async def delete_account(request: Request, visit: Visit) -> Response:
    """Delete the account with everything in it, once the password confirms it is its owner."""
    if request.method == "GET":
        return visit.render("account_delete.html", title="Delete your account", section="account", error="")
    user = visit.user
    assert user is not None
    try:
        async with visit.ctx.db.session() as session:
            await users.authenticate(session, user.email, visit.form.get("password"))
            blob_keys = await users.delete_user(session, user.email)  # items, files, tags, clients, apps, ...
    except AuthenticationFailed:
        return visit.render("account_delete.html", status=400, title="Delete your account", section="account",
                            error="That is not your password. Nothing was deleted.")
    await files.remove_blobs(visit.ctx.blobs, blob_keys)
    visit.ctx.tokens.forget(user_id=visit.user_id)  # this process stops trusting its cached tokens now
    response = visit.redirect("/auth", notice="account_deleted")
    visit.end_session(response)
    return response


routes = [
    Route("/account/export", export, methods=["GET", "POST"], name="export"),
    Route("/account/delete", delete_account, methods=["GET", "POST"], name="delete_account"),
]
