"""A person's email address: confirming it, and moving the account to a new one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import one_time_links, users
from axiom_mcp.db.tables import User
from axiom_mcp.errors import ConflictError
from axiom_mcp.ids import utcnow
from axiom_mcp.security.passwords import verify_password_off_loop

TAKEN = "Another account uses this email."


async def password_matches(session: AsyncSession, user_id: str, password: str) -> bool:
    """Whether ``password`` is the user's (asked again before a change as grave as the address)."""
    user = await users.get_user(session, user_id)
    return await verify_password_off_loop(user.password_hash, password[: users.PASSWORD_MAX])


async def email_in_use(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == users.normalize_email(email)))) is not None


async def confirm_email(session: AsyncSession, user_id: str, email: str) -> bool:
    """Mark the account verified if ``email`` (where the link was mailed) is still its address."""
    user = await users.get_user(session, user_id)
    if user.email != users.normalize_email(email):
        return False
    if not user.verified:
        user.verified = True
        user.updated = utcnow()
    return True


async def change_email(session: AsyncSession, user_id: str, new_email: str) -> str:
    """Move the account to ``new_email`` (confirmed: the link reached it) and return the old address.

    ConflictError when another account took the address meanwhile. Links mailed to the old address
    are forgotten.
    """
    user = await users.get_user(session, user_id)
    old = user.email
    new_email = users.normalize_email(new_email)
    if await email_in_use(session, new_email) and new_email != old:
        raise ConflictError(TAKEN, field="email")
    user.email, user.verified, user.updated = new_email, True, utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:  # taken by a concurrent sign-up
        raise ConflictError(TAKEN, field="email") from exc
    await one_time_links.drop_links(session, user_id)
    return old
