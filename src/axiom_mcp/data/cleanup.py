"""Removing what has expired: codes, pending requests, tokens, web sessions, unused registrations,
login-throttle counts nobody has added to for a window, sign-up and registration counts of ended
windows, mailed links past their hour, activity older than ``activity_retention``, deleted records past the
undo window with their files' bytes (data/undo.py), and blobs no file row names (data/files.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.blobs.store import BlobStore
from axiom_mcp.data import activity, files, one_time_links, rate_limits, signup_throttle, throttle, undo
from axiom_mcp.db.tables import (
    OAuthAccessToken,
    OAuthAuthorizationCode,
    OAuthAuthorizationRequest,
    OAuthClient,
    OAuthConsent,
    OAuthRefreshToken,
    WebSession,
)
from axiom_mcp.ids import utcnow
from axiom_mcp.settings import Settings


@dataclass
class CleanupReport:
    authorization_requests: int = 0
    authorization_codes: int = 0
    access_tokens: int = 0
    refresh_tokens: int = 0
    web_sessions: int = 0
    unused_clients: int = 0
    login_throttle: int = 0
    signup_throttle: int = 0
    activity: int = 0
    registration_throttle: int = 0
    one_time_links: int = 0
    deleted_records: int = 0
    """Deleted records past the undo window, no longer kept."""
    files: int = 0
    """Their files' blobs, orphan blobs and abandoned uploads removed."""

    def total(self) -> int:
        return sum(vars(self).values())


async def remove_expired(session: AsyncSession, settings: Settings, blobs: BlobStore | None = None) -> CleanupReport:
    """Delete every expired or dead row (and, given the blob store, orphan blobs); idempotent and safe
    to run from several instances at once."""
    now = utcnow()

    async def purge(table: type, *conditions: object) -> int:
        result = await session.execute(delete(table).where(*conditions))  # type: ignore[arg-type]
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    report = CleanupReport()
    report.authorization_requests = await purge(OAuthAuthorizationRequest, OAuthAuthorizationRequest.expires <= now)
    report.authorization_codes = await purge(OAuthAuthorizationCode, OAuthAuthorizationCode.expires <= now)
    report.access_tokens = await purge(
        OAuthAccessToken, or_(OAuthAccessToken.expires <= now, OAuthAccessToken.revoked.is_(True))
    )
    report.refresh_tokens = await purge(
        OAuthRefreshToken, or_(OAuthRefreshToken.expires <= now, OAuthRefreshToken.revoked.is_(True))
    )
    report.web_sessions = await purge(WebSession, WebSession.expires <= now)
    report.login_throttle = await throttle.remove_stale(session, now)
    report.signup_throttle = await signup_throttle.remove_stale(session, settings, now)
    report.activity = await activity.remove_old(session, now - settings.activity_retention)
    report.registration_throttle = await rate_limits.registrations(settings).remove_stale(session, now)
    report.one_time_links = await one_time_links.remove_expired(session, now)
    report.deleted_records, expired_blobs = await undo.remove_expired(session, settings.undo_window, now)
    if blobs is not None:
        report.files = await files.remove_blobs(blobs, expired_blobs)
        report.files += await files.sweep_orphans(session, blobs, now - files.ORPHAN_AGE)
    # Claude and others register anew on every connect: reap registrations nobody ever used, or that
    # went unused for the configured time and hold no consent.
    stale = now - settings.unused_client_ttl
    report.unused_clients = await purge(
        OAuthClient,
        OAuthClient.source.in_(("dcr", "cimd")),  # a CIMD row is only a cache of the document
        OAuthClient.client_id.not_in(settings.introspection_clients),  # a resource server may only introspect
        or_(
            and_(OAuthClient.last_used.is_(None), OAuthClient.created <= stale),
            OAuthClient.last_used <= stale,
        ),
        OAuthClient.client_id.not_in(select(OAuthConsent.client_id)),
    )
    return report
