"""The account page in Chromium (JavaScript off) at a phone's width and a desktop's: the name, a
picture, an API token made and revoked, another browser signed out, the data downloaded, the account deleted
(issue 15 items 4 to 7; the mailed flows are in test_account_browser.py)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.async_api import expect
from PIL import Image

from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from axiom_mcp.db.tables import User
from tests.support.factories import make_user
from tests.web.conftest import Served
from tests.web.helpers import Screenshots

pytestmark = pytest.mark.browser


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), (30, 90, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("screen", ["phone", "desktop"])
async def test_a_person_runs_their_own_account(served: Served, screenshots: Screenshots, screen: str) -> None:
    ctx = served.ctx
    user = await make_user(ctx, name="Ann")
    async with ctx.db.session() as session:
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="Kept in the archive"))
    elsewhere = await served.browser_of(user.id, "desktop", user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
    context = await served.browser_of(user.id, screen)
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/account")
        await page.get_by_role("textbox", name="Name (optional)").fill("Ann Example")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.get_by_role("status")).to_have_text("Your name and time zone are saved.")
        await expect(page.get_by_role("textbox", name="Name (optional)")).to_have_value("Ann Example")

        await page.get_by_label("Picture").set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": _png()})
        await page.get_by_role("button", name="Upload picture").click()
        await expect(page.get_by_role("status")).to_have_text("Your new picture is saved.")
        picture = page.get_by_role("img", name="Your picture")
        await expect(picture).to_be_visible()
        # The box has a size from CSS before the bytes arrive: wait for the image itself (decode() rejects
        # on a broken one).
        size = await picture.evaluate("async img => { await img.decode(); return [img.naturalWidth, img.naturalHeight]; }")
        assert size == [256, 171]  # resized

        # Another browser is listed, then signed out from here.
        browsers = page.locator("#browsers")
        await expect(browsers).to_contain_text("Firefox")
        await page.get_by_role("button", name="Sign out everywhere else").click()
        await expect(page.get_by_role("status")).to_have_text("Every other browser is signed out.")
        other = await elsewhere.new_page()
        await other.goto(f"{served.url}/account")
        await expect(other.get_by_role("heading", name="Sign in")).to_be_visible()

        # An API token: shown once, listed by its name, revoked.
        await page.get_by_label("New token's name").fill("backup script")
        await page.get_by_role("button", name="Make a token").click()
        raw = await page.get_by_label("API token").input_value()
        assert await ctx.tokens.verify(raw) is not None
        await page.get_by_role("link", name="Done").click()
        await page.get_by_role("button", name="Revoke backup script").click()
        await expect(page.get_by_role("status")).to_have_text(
            "The API token “backup script” is revoked. Programs using it can no longer reach your data.")
        assert await ctx.tokens.verify(raw) is None
        await screenshots.save(page, f"account-self-service-{screen}")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the account page scrolls sideways on a {screen} by {overflow}px"

        # The data, as one archive.
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download my data").click()
        archive = await (await download_info.value).path()
        with zipfile.ZipFile(archive) as zipped:
            held = {name: zipped.read(name) for name in zipped.namelist()}
        assert any(b"Kept in the archive" in data for data in held.values()), sorted(held)
        assert any(b"Ann Example" in data for name, data in held.items() if name.endswith(".json")), sorted(held)
        json.loads(next(data for name, data in held.items() if name.endswith(".json")))

        # Deleting the account asks for the password, then everything goes.
        await page.get_by_role("link", name="Delete my account…").click()
        await page.get_by_label("Your password, to confirm").fill(user.password)
        await page.get_by_role("button", name="Delete my account").click()
        await expect(page.get_by_role("status")).to_have_text("Your account and everything in it are deleted.")
        async with ctx.db.session() as session:
            assert await session.get(User, user.id) is None
    finally:
        await context.close()
        await elsewhere.close()
