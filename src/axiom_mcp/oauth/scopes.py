"""Scopes (RFC 6749 section 3.3): parsing what a client asks for against what the server knows.

A request that names no scope gets ``DEFAULT_SCOPES`` (the read and write scopes);
``offline_access`` is granted only when asked for. Refresh tokens do not depend on it: they follow
the client's registered ``grant_types`` (see ``token.py``), because ChatGPT expects one without
asking for ``offline_access`` and Claude asks for it; but when an app asks for it and the person
withholds it (at consent, or later on Connected apps), the app gets no refresh token and its
refresh tokens stop working.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from axiom_mcp.oauth.errors import InvalidScope
from axiom_mcp.settings import DEFAULT_SCOPES, SCOPES

MAX_SCOPE_LENGTH = 1000
OFFLINE = "offline_access"


def ordered(scopes: Iterable[str]) -> list[str]:
    """Known scopes, deduplicated, in the order ``SCOPES`` lists them (stable, readable)."""
    wanted = set(scopes)
    return [s for s in SCOPES if s in wanted]


def format_scope(scopes: Iterable[str]) -> str:
    return " ".join(ordered(scopes))


def split_scope(raw: str | None) -> list[str]:
    """The scope tokens of a space-delimited parameter (extra spaces tolerated)."""
    if not raw:
        return []
    return [token for token in raw.split(" ") if token]


def requested_scopes(raw: str | None, *, registered: Collection[str] | None = None) -> list[str]:
    """What an authorization request asks for (RFC 6749 section 3.3), validated.

    ``registered`` is the client's registered ``scope`` (RFC 7591 section 2), if it named one:
    a request may not exceed it. Unknown scope values are ``invalid_scope``.
    """
    if raw is not None and len(raw) > MAX_SCOPE_LENGTH:
        raise InvalidScope("The scope parameter is too long.")
    asked = split_scope(raw)
    if not asked:
        defaults = [s for s in DEFAULT_SCOPES if registered is None or s in registered]
        if not defaults:
            raise InvalidScope("Name the scopes to grant; this client registered none of the defaults.")
        return ordered(defaults)
    unknown = [s for s in asked if s not in SCOPES]
    if unknown:
        raise InvalidScope(f"Unknown scope: {' '.join(unknown)[:200]}. Known: {' '.join(SCOPES)}.")
    if registered is not None:
        outside = [s for s in asked if s not in registered]
        if outside:
            raise InvalidScope(f"The client did not register the scope {' '.join(outside)}.")
    return ordered(asked)


def known_scopes(raw: str | None) -> str | None:
    """A registration's ``scope`` reduced to the scopes this server knows (RFC 7591 section 2 lets
    the server replace requested metadata); None when nothing known remains."""
    kept = ordered(s for s in split_scope(raw) if s in SCOPES)
    return " ".join(kept) or None
