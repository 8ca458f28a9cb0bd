"""Consents: which user allowed which client which scopes, and what it sees (the "connected apps").

The person decides at consent, and may change it later on the Connected apps page:
- the scopes: any of those the app asked for; later only fewer. The consent's scopes are the
  person's current word, and every live token of the app is held to them (data/tokens.py takes the
  intersection of a token's scopes and its consent's on each verification);
- what the app sees: all their items, or only those of a client profile (an existing one, or a new
  one named after the app, made from tags they pick); data/access.connection_view reads it.

Revoking a connected app deletes the consent and revokes every token that user gave that client.
After a revocation or a change the caller makes the token cache forget the app's tokens:
``ctx.tokens.forget(user_id=..., client_id=...)``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import consents, profiles
from axiom_mcp.data.kinds import CLIENTS
from axiom_mcp.data.records import create_record
from axiom_mcp.data.schemas import ClientCreate
from axiom_mcp.db.tables import NAME_MAX
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.oauth.clients import display_name
from axiom_mcp.oauth.grants import revoke_user_client
from axiom_mcp.oauth.redirects import redirect_host
from axiom_mcp.oauth.scopes import format_scope, ordered, split_scope


@dataclass(frozen=True)
class Sees:
    """What the person chose an app sees: everything (both None), an existing client profile of
    theirs (``profile_id``), or a new one made from their tags ``new_tags``."""

    profile_id: str | None = None
    new_tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Choice:
    """What a consent allows now: its scopes, and the profile a restricted app sees through."""

    scopes: list[str]
    restricted: bool
    profile_id: str | None


@dataclass
class ConnectedApp:
    client_id: str
    client_name: str
    source: str
    """``dcr``, ``cimd`` or ``first_party``."""
    redirect_host: str
    scopes: list[str]
    created: datetime
    last_used: datetime | None
    restricted: bool
    profile_id: str | None
    """The profile a restricted app sees through; None when unrestricted or once it was deleted."""


async def last_choice(session: AsyncSession, user_id: str, client_id: str) -> Choice | None:
    """What the person allowed this app last time, or None when it is new to them."""
    row = await consents.find_consent(session, user_id, client_id)
    if row is None:
        return None
    return Choice(ordered(split_scope(row.scopes)), row.restricted, row.profile_id)


async def _profile(session: AsyncSession, user_id: str, sees: Sees, app_name: str) -> str | None:
    """The profile id the choice names (a new one is made now); None for everything.

    ``ValidationFailed`` for a profile that is not the person's or a new one without tags (it
    would see nothing: the person can say Deny instead).
    """
    if sees.new_tags is not None:
        if not sees.new_tags:
            raise ValidationFailed("Pick at least one tag for the new profile.", field="tags")
        made = await create_record(CLIENTS, session, user_id,
                                   ClientCreate(name=app_name[:NAME_MAX], accessTags=list(sees.new_tags)))
        return str(made.id)
    if sees.profile_id is not None:
        if not await profiles.is_users_profile(session, user_id, sees.profile_id):
            raise ValidationFailed("Choose one of your client profiles.", field="profile")
        return sees.profile_id
    return None


async def record_consent(
    session: AsyncSession,
    user_id: str,
    client_id: str,
    scopes: Collection[str],
    *,
    asked: Collection[str] | None = None,
    sees: Sees | None = None,
    app_name: str = "",
) -> None:
    """Record what the person allowed: the granted ``scopes`` of the ``asked`` ones (default: the
    same) and what the app sees (``sees``; None keeps the last choice, everything for a new app).

    A consent given before keeps the scopes this request did not ask about; an asked scope the
    person left out is taken away from it (and so from the app's live tokens).
    """
    profile_id = None if sees is None else await _profile(session, user_id, sees, app_name)
    restricted = profile_id is not None
    if await consents.add_consent(session, user_id, client_id, scopes=format_scope(scopes),
                                  restricted=restricted, profile_id=profile_id):
        return
    current = await last_choice(session, user_id, client_id)
    assert current is not None
    withdrawn = set(asked if asked is not None else scopes) - set(scopes)
    kept = [s for s in current.scopes if s not in withdrawn]
    if sees is None:
        restricted, profile_id = current.restricted, current.profile_id
    await consents.set_consent(session, user_id, client_id, scopes=format_scope([*kept, *scopes]),
                               restricted=restricted, profile_id=profile_id)


async def change_connection(
    session: AsyncSession, user_id: str, client_id: str, scopes: Collection[str], sees: Sees, app_name: str
) -> None:
    """The Connected apps page's change: fewer scopes (a subset of the consent's, at least one) and
    what the app sees. The caller makes the token cache forget the app's tokens.

    ``NotFoundError`` when the person has no such app; ``ValidationFailed`` for a scope it does not
    hold, none at all, or a profile choice ``_profile`` refuses.
    """
    current = await last_choice(session, user_id, client_id)
    if current is None:
        raise NotFoundError("No such connected app.")
    beyond = set(scopes) - set(current.scopes)
    if beyond:
        raise ValidationFailed(f"The app was not granted {' '.join(sorted(beyond))[:200]}; "
                               "only the app can ask for more, at a new consent.", field="scope")
    if not scopes:
        raise ValidationFailed("Keep at least one permission, or disconnect the app.", field="scope")
    profile_id = await _profile(session, user_id, sees, app_name)
    await consents.set_consent(session, user_id, client_id, scopes=format_scope(scopes),
                               restricted=profile_id is not None, profile_id=profile_id)


async def list_connected_apps(session: AsyncSession, user_id: str) -> list[ConnectedApp]:
    """The user's connected apps, most recently approved first."""
    apps = []
    for consent, client in await consents.consents_with_clients(session, user_id):
        uris = list(client.redirect_uris) if client is not None else []
        apps.append(
            ConnectedApp(
                client_id=consent.client_id,
                client_name=display_name(client) if client is not None else consent.client_id[:100],
                source=client.source if client is not None else "dcr",
                redirect_host=redirect_host(uris[0]) if uris else "",
                scopes=ordered(split_scope(consent.scopes)),
                created=consent.created,
                last_used=consent.last_used,
                restricted=consent.restricted,
                profile_id=consent.profile_id,
            )
        )
    return apps


async def revoke_connected_app(session: AsyncSession, user_id: str, client_id: str) -> None:
    """Delete the consent and revoke every access and refresh token of that user and client.

    Raises ``NotFoundError`` when the user has no such connected app.
    """
    if not await consents.delete_consent(session, user_id, client_id):
        raise NotFoundError("No such connected app.")
    await revoke_user_client(session, user_id, client_id)
