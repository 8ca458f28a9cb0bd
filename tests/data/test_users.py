"""Accounts in the data layer: sign-up, case-insensitive unique email, login, password change."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from axiom_mcp.context import AppContext
from axiom_mcp.data import users
from axiom_mcp.db.tables import User
from axiom_mcp.errors import AuthenticationFailed, ConflictError, NotFoundError, ValidationFailed

PASSWORD = "a long enough password"


def email(local: str = "Ann") -> str:
    return f"{local}-{secrets.token_hex(4)}@X.com"


async def sign_up(ctx: AppContext, address: str, password: str = PASSWORD) -> User:
    async with ctx.db.session() as session:
        return await users.create_user(session, users.SignUp(email=address, password=password, name="Ann"))


async def test_sign_up_stores_a_lowercase_email_and_an_argon2id_hash(ctx: AppContext) -> None:
    address = email()
    user = await sign_up(ctx, address)
    assert user.email == address.lower()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_the_same_email_in_another_case_is_taken(ctx: AppContext) -> None:
    address = email("Ann")  # Ann-...@X.com
    await sign_up(ctx, address)
    for variant in (address.lower(), address.upper(), f" {address} "):
        with pytest.raises(ConflictError) as caught:
            await sign_up(ctx, variant)
        assert caught.value.field == "email"


async def test_a_sign_up_race_ends_in_one_account_and_a_conflict(ctx: AppContext) -> None:
    """Both sign-ups pass the "is it taken?" check before either writes; the unique index decides,
    and the loser gets the same ConflictError (through the IntegrityError path), never a 500."""
    address = email("Race")
    first_row_written = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> User:
        async with ctx.db.session() as session:
            user = await users.create_user(session, users.SignUp(email=address, password=PASSWORD))
            first_row_written.set()
            await release_first.wait()  # hold the transaction open: the row is written, not committed
            return user

    async def second() -> None:
        await first_row_written.wait()
        async with ctx.db.session() as session:
            await users.create_user(session, users.SignUp(email=address.upper(), password=PASSWORD))

    winner = asyncio.create_task(first())
    loser = asyncio.create_task(second())
    await first_row_written.wait()
    await asyncio.sleep(0.5)  # the second is now blocked on the first's row (or write lock)
    assert not loser.done()
    release_first.set()
    with pytest.raises(ConflictError) as caught:
        await loser
    assert caught.value.field == "email"
    assert isinstance(caught.value.__cause__, IntegrityError)
    made = await winner
    async with ctx.db.session() as session:
        rows = (await session.scalars(select(User).where(User.email == address.lower()))).all()
    assert [r.id for r in rows] == [made.id]


async def test_many_simultaneous_sign_ups_with_one_email_make_one_account(ctx: AppContext) -> None:
    address = email("Crowd")
    outcomes = await asyncio.gather(
        *(sign_up(ctx, address.swapcase() if n % 2 else address) for n in range(6)), return_exceptions=True
    )
    assert sum(isinstance(o, User) for o in outcomes) == 1
    assert all(isinstance(o, (User, ConflictError)) for o in outcomes), outcomes


async def test_login_with_any_case_of_the_email(ctx: AppContext) -> None:
    address = email()
    made = await sign_up(ctx, address)
    for variant in (address, address.upper(), f"  {address.lower()} "):
        async with ctx.db.session() as session:
            assert (await users.authenticate(session, variant, PASSWORD)).id == made.id


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param("wrong-password", id="wrong-password"),
        pytest.param("unknown-email", id="unknown-email"),
        pytest.param("empty-password", id="empty-password"),
        pytest.param("nul-email", id="nul-in-email"),
        pytest.param("huge-email", id="huge-email"),
    ],
)
async def test_every_failed_login_says_the_same(ctx: AppContext, attempt: str) -> None:
    address = email()
    await sign_up(ctx, address)
    given_email, given_password = {
        "wrong-password": (address, PASSWORD + "!"),
        "unknown-email": (email("ghost"), PASSWORD),
        "empty-password": (address, ""),
        "nul-email": (address + "\x00", PASSWORD),
        "huge-email": ("a" * 10_000 + address, PASSWORD),
    }[attempt]
    with pytest.raises(AuthenticationFailed) as caught:
        async with ctx.db.session() as session:
            await users.authenticate(session, given_email, given_password)
    assert caught.value.message == users.BAD_LOGIN
    assert caught.value.field is None


async def test_an_old_hash_is_upgraded_at_login(ctx: AppContext) -> None:
    address = email()
    made = await sign_up(ctx, address)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    async with ctx.db.session() as session:
        (await session.get(User, made.id)).password_hash = weak  # type: ignore[union-attr]
    async with ctx.db.session() as session:
        await users.authenticate(session, address, PASSWORD)
    async with ctx.db.session() as session:
        upgraded = (await session.get(User, made.id)).password_hash  # type: ignore[union-attr]
    assert upgraded != weak and upgraded.startswith("$argon2id$")
    async with ctx.db.session() as session:
        assert (await users.authenticate(session, address, PASSWORD)).id == made.id


async def test_password_change(ctx: AppContext) -> None:
    address = email()
    made = await sign_up(ctx, address)
    new = "a brand new password"

    with pytest.raises(ValidationFailed) as wrong_current:
        async with ctx.db.session() as session:
            await users.change_password(session, made.id, "not it", new)
    assert wrong_current.value.field == "current_password"

    for too_weak in ("short", "x" * (users.PASSWORD_MAX + 1)):
        with pytest.raises(ValidationFailed) as bad_new:
            async with ctx.db.session() as session:
                await users.change_password(session, made.id, PASSWORD, too_weak)
        assert bad_new.value.field == "password"

    async with ctx.db.session() as session:
        await users.change_password(session, made.id, PASSWORD, new)
    async with ctx.db.session() as session:
        assert (await users.authenticate(session, address, new)).id == made.id
        changed = await users.get_user(session, made.id)
    assert changed.updated > made.updated
    with pytest.raises(AuthenticationFailed):
        async with ctx.db.session() as session:
            await users.authenticate(session, address, PASSWORD)


async def test_profile_lookup_and_listing(ctx: AppContext) -> None:
    address = email()
    made = await sign_up(ctx, address)
    async with ctx.db.session() as session:
        profile = await users.get_profile(session, made.id)
        by_email = await users.get_user_by_email(session, address.upper())
        everyone = await users.list_users(session)
        nobody = await users.get_user_by_email(session, "a\x00b@example.com")
    assert (profile.id, profile.email, profile.name, profile.verified) == (made.id, address.lower(), "Ann", False)
    assert by_email is not None and by_email.id == made.id
    assert made.id in {u.id for u in everyone}
    assert nobody is None
    with pytest.raises(NotFoundError):
        async with ctx.db.session() as session:
            await users.get_profile(session, "0" * 15)


async def test_delete_by_email_in_any_case(ctx: AppContext) -> None:
    address = email()
    made = await sign_up(ctx, address)
    async with ctx.db.session() as session:
        await users.delete_user(session, address.upper())
    async with ctx.db.session() as session:
        assert await session.get(User, made.id) is None
    for unknown in (address, "nobody@example.com", "a\x00"):
        with pytest.raises(NotFoundError):
            async with ctx.db.session() as session:
                await users.delete_user(session, unknown)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"email": "nope", "password": PASSWORD}, "email", id="bad-email"),
        pytest.param({"email": "a@x.com", "password": "1234567"}, "password", id="short-password"),
        pytest.param({"email": "a@x.com", "password": PASSWORD, "name": "n" * 256}, "name", id="long-name"),
        pytest.param({"email": "a@x.com", "password": PASSWORD, "name": "a\x00"}, "name", id="nul-name"),
        pytest.param({"email": "a@x.com", "password": PASSWORD, "admin": True}, "admin", id="unknown-field"),
    ],
)
def test_sign_up_input_is_validated(fields: dict[str, object], field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        users.SignUp.model_validate(fields)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]
