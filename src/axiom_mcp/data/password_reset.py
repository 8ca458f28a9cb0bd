"""Setting a new password from a mailed link: the old credentials of the account die with it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import one_time_links, tokens, users, web_sessions
from axiom_mcp.errors import ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.security.passwords import hash_password_off_loop


async def reset_password(session: AsyncSession, user_id: str, new: str) -> None:
    """Set ``new`` as the password, sign out every browser, revoke the API tokens and forget the
    links mailed before (a second reset link must not undo this one). Connected apps keep their
    access: the person is offered to disconnect them."""
    if not users.PASSWORD_MIN <= len(new) <= users.PASSWORD_MAX:
        raise ValidationFailed(
            f"the new password needs {users.PASSWORD_MIN} to {users.PASSWORD_MAX} characters", field="new_password"
        )
    user = await users.get_user(session, user_id)
    user.password_hash = await hash_password_off_loop(new)
    user.updated = utcnow()
    await web_sessions.end_other_sessions(session, user_id, None)
    await tokens.revoke_api_tokens(session, user_id)
    await one_time_links.drop_links(session, user_id)
