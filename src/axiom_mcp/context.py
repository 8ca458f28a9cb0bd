"""What every service of one process shares: settings, the database, the blob store of attached files,
the token verifier, each connection's view, the activity log."""

from __future__ import annotations

from dataclasses import dataclass, field

from axiom_mcp.blobs.configure import open_store
from axiom_mcp.blobs.store import BlobStore
from axiom_mcp.data.access import Views
from axiom_mcp.data.activity import ActivityLog
from axiom_mcp.data.caches import database_caches
from axiom_mcp.data.token_verifier import AccessTokenVerifier
from axiom_mcp.db.engine import Database
from axiom_mcp.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    blobs: BlobStore = field(init=False)
    tokens: AccessTokenVerifier = field(init=False)
    views: Views = field(init=False)
    activity: ActivityLog = field(init=False)

    def __post_init__(self) -> None:
        self.blobs = open_store(self.settings)
        self.tokens = AccessTokenVerifier(self.db, self.settings.token_cache_seconds)
        self.views = Views(self.db, self.settings.token_cache_seconds)
        self.activity = ActivityLog(self.db)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        return cls(settings=settings, db=Database(settings, database_caches()))

    async def close(self) -> None:
        try:
            await self.activity.close()
        finally:
            try:
                await self.blobs.close()
            finally:
                await self.db.close()
