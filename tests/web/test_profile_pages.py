"""The profile on the account page: change the name; upload, see and remove a picture."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from axiom_mcp.context import AppContext
from axiom_mcp.data import avatars
from tests.support.factories import TestUser
from tests.web.helpers import csrf_of, submit


def _png(size: tuple[int, int] = (800, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


async def _upload(client: httpx.AsyncClient, content: bytes, name: str = "me.png", **fields: str) -> httpx.Response:
    token = csrf_of(await client.get("/account"))
    return await client.post("/account/avatar", data={"csrf_token": token, **fields},
                             files={"avatar": (name, content, "application/octet-stream")})


async def test_the_name_can_be_changed_and_is_checked(signed_in: httpx.AsyncClient, user: TestUser, api: httpx.AsyncClient) -> None:
    done = await submit(signed_in, "/account", "/account/profile", name="  Ann Example  ")
    assert done.status_code == 303 and done.headers["location"] == "/account?notice=profile_saved"
    profile = await api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {user.token}"})
    assert profile.json()["name"] == "Ann Example"
    too_long = await submit(signed_in, "/account", "/account/profile", name="x" * 300)
    assert too_long.status_code == 400 and "at most 255 characters" in too_long.text


async def test_a_picture_is_uploaded_resized_and_shown(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser, api: httpx.AsyncClient
) -> None:
    done = await _upload(signed_in, _png(), name="holiday.txt")  # the name does not matter, the bytes do
    assert done.status_code == 303, done.text
    page = await signed_in.get("/account")
    assert 'src="/account/avatar.png?v=avatar_' in page.text
    served = await signed_in.get("/account/avatar.png")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (256, 128)
    profile = await api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {user.token}"})
    assert profile.json()["avatar"].startswith("avatar_")

    removed = await _upload(signed_in, b"", remove="1")
    assert removed.status_code == 303
    assert (await signed_in.get("/account/avatar.png")).status_code == 404


async def test_what_is_not_a_picture_is_refused_with_a_message(ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser) -> None:
    for content, message in ((b"<svg onload=alert(1)>", "Not a picture Axiom can read"), (b"", "Choose a picture")):
        refused = await _upload(signed_in, content, name="x.png")
        assert refused.status_code == 400 and message in refused.text
    async with ctx.db.session() as session:
        assert await avatars.get_avatar(session, user.id) is None


async def test_an_upload_too_large_or_without_the_csrf_token_is_refused(signed_in: httpx.AsyncClient) -> None:
    huge = await _upload(signed_in, b"\0" * (avatars.MAX_UPLOAD_BYTES + 128 * 1024))
    assert huge.status_code == 413
    forged = await signed_in.post("/account/avatar", files={"avatar": ("me.png", _png(), "image/png")})
    assert forged.status_code == 403


async def test_a_multipart_post_is_refused_where_no_files_are_taken(signed_in: httpx.AsyncClient) -> None:
    token = csrf_of(await signed_in.get("/account"))
    response = await signed_in.post("/account/profile", data={"csrf_token": token, "name": "X"},
                                    files={"avatar": ("me.png", _png(), "image/png")})
    assert response.status_code == 415


async def test_a_streamed_upload_is_cut_off_at_the_cap(signed_in: httpx.AsyncClient) -> None:
    token = csrf_of(await signed_in.get("/account"))
    boundary = "axiomboundary"

    async def body():  # no Content-Length: the cap must hold while the parts stream in
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"big.png\"\r\n"
               "Content-Type: image/png\r\n\r\n").encode()
        for _ in range(7):
            yield b"\0" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await signed_in.post("/account/avatar", content=body(),
                                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
