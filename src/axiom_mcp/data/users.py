"""Accounts: sign-up, login by email + password, profile, password change, removal."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.files import user_blob_keys
from axiom_mcp.data.schemas import ProfileOut, storable
from axiom_mcp.data.tokens import revoke_api_tokens
from axiom_mcp.db.tables import NAME_MAX, User
from axiom_mcp.errors import AuthenticationFailed, ConflictError, NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.security.passwords import hash_password_off_loop, needs_rehash, verify_password_off_loop

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
BAD_LOGIN = "Wrong email or password."
"""One message for an unknown email and a wrong password, so neither reveals which accounts exist."""

Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX), AfterValidator(storable)]
_person_name = TypeAdapter(PersonName)


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[EmailStr, Field(max_length=320)]
    password: Password
    name: PersonName = ""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _lookup_email(email: str) -> str | None:
    """The normalised email to look up, or None when no account can have it (over-long, NUL, ...)."""
    email = normalize_email(email)
    if not email or len(email) > 320:
        return None
    try:
        return storable(email)
    except ValueError:
        return None


def profile_out(user: User) -> ProfileOut:
    return ProfileOut(
        id=user.id,
        email=user.email,
        name=user.name,
        avatar=user.avatar,
        verified=user.verified,
        timezone=user.timezone,
        created=user.created,
        updated=user.updated,
    )


async def create_user(session: AsyncSession, data: SignUp, **kept: Any) -> User:
    """A new account; ``kept`` sets other columns as they were (an imported account's id, times)."""
    email = normalize_email(str(data.email))
    if await session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError("an account with this email already exists", field="email")
    user = User(email=email, name=data.name, password_hash=await hash_password_off_loop(data.password), **kept)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise ConflictError("an account with this email already exists", field="email") from exc
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The user whose email and password these are, or AuthenticationFailed(BAD_LOGIN)."""
    wanted = _lookup_email(email)
    user = await session.scalar(select(User).where(User.email == wanted)) if wanted else None
    # verify_password runs (against a dummy hash) even for an unknown email, so timing tells nothing.
    if not await verify_password_off_loop(user.password_hash if user else None, password[:PASSWORD_MAX]) or user is None:
        raise AuthenticationFailed(BAD_LOGIN)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_off_loop(password)
    return user


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("user not found")
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    wanted = _lookup_email(email)
    return await session.scalar(select(User).where(User.email == wanted)) if wanted else None


async def get_profile(session: AsyncSession, user_id: str) -> ProfileOut:
    return profile_out(await get_user(session, user_id))


async def change_password(session: AsyncSession, user_id: str, current: str, new: str) -> None:
    """Set a new password; every API token of the user dies with the old one (the caller makes the
    token cache forget them: ``ctx.tokens.forget(user_id=..., client_id=FIRST_PARTY_CLIENT_ID)``)."""
    user = await get_user(session, user_id)
    if not await verify_password_off_loop(user.password_hash, current[:PASSWORD_MAX]):
        raise ValidationFailed("the current password is wrong", field="current_password")
    if not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
        raise ValidationFailed(f"the new password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters", field="password")
    user.password_hash = await hash_password_off_loop(new)
    user.updated = utcnow()
    await revoke_api_tokens(session, user_id)


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.scalars(select(User).order_by(User.created))).all())


async def set_name(session: AsyncSession, user_id: str, name: str) -> ProfileOut:
    """Change the person's name (validated as at sign-up: trimmed, at most NAME_MAX characters)."""
    try:
        valid = _person_name.validate_python(name)
    except ValidationError as exc:
        raise ValidationFailed(exc.errors(include_url=False)[0]["msg"], field="name") from None
    user = await get_user(session, user_id)
    user.name = valid
    user.updated = utcnow()
    await session.flush()
    return profile_out(user)


def known_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``Europe/Paris``, ``UTC``)."""
    return 0 < len(name) <= 64 and name in available_timezones()


async def set_timezone(session: AsyncSession, user_id: str, name: str, *, only_if_unset: bool = False) -> None:
    """Show the person's times in ``name``; ValidationFailed naming ``timezone`` for an unknown zone.
    ``only_if_unset``: the browser's own zone, taken at sign-in, never overrides a choice made."""
    if not known_timezone(name):
        raise ValidationFailed("choose a time zone from the list", field="timezone")
    query = update(User).where(User.id == user_id)
    if only_if_unset:
        query = query.where(User.timezone == "")
    await session.execute(query.values(timezone=name))


async def has_users(session: AsyncSession) -> bool:
    """Whether any account exists (a new installation has none: the first step is to sign up)."""
    return (await session.scalar(select(User.id).limit(1))) is not None


async def delete_user(session: AsyncSession, email: str) -> list[str]:
    """Delete the account and all it holds; the blobs of its files, to remove (``files.remove_blobs``)
    once this commits."""
    wanted = _lookup_email(email)
    user_id = await session.scalar(select(User.id).where(User.email == wanted)) if wanted else None
    blob_keys = await user_blob_keys(session, user_id) if user_id else []
    result = await session.execute(delete(User).where(User.email == wanted)) if wanted else None
    if result is None or result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"no user with email {email!r}")
    return blob_keys
