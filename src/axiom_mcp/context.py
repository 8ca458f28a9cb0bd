"""What every service of one process shares: settings, the database, the token verifier."""

from __future__ import annotations

from dataclasses import dataclass, field

from axiom_mcp.data.caches import database_caches
from axiom_mcp.data.token_verifier import AccessTokenVerifier
from axiom_mcp.db.engine import Database
from axiom_mcp.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    tokens: AccessTokenVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = AccessTokenVerifier(self.db, self.settings.token_cache_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        return cls(settings=settings, db=Database(settings, database_caches()))

    async def close(self) -> None:
        await self.db.close()
