"""OAuth clients in ``_oauth_clients``: registrations (RFC 7591) and cached Client ID Metadata
Documents. The protocol rules about them live in ``axiom_mcp.oauth``; this module only stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.upsert import insert_if_absent
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.ids import utcnow


async def get_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """The client row, read afresh (a document just stored in another session shows its new values)."""
    return await session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id).execution_options(populate_existing=True)
    )


async def add_registered_client(session: AsyncSession, **values: Any) -> OAuthClient:
    """Store a new registration; ``values`` are ``OAuthClient`` attributes."""
    row = OAuthClient(source="dcr", **values)
    session.add(row)
    await session.flush()
    return row


async def store_document_client(
    session: AsyncSession, client_id: str, values: dict[str, Any], fetched_at: datetime
) -> None:
    """Insert or refresh the row of a metadata document client (``values`` are attribute names)."""
    values = {**values, "source": "cimd", "metadata_fetched_at": fetched_at, "client_secret_hash": None}
    columns = {("metadata" if k == "client_metadata" else k): v for k, v in values.items()}
    await insert_if_absent(session, OAuthClient, {"client_id": client_id, **columns}, ["client_id"])
    await session.execute(update(OAuthClient).where(OAuthClient.client_id == client_id).values(**values))


async def touch_client(session: AsyncSession, client_id: str) -> None:
    """Record that the client was used, so the reaper keeps it (``data/cleanup.py``)."""
    await session.execute(update(OAuthClient).where(OAuthClient.client_id == client_id).values(last_used=utcnow()))
