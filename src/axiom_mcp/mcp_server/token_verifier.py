"""Which bearer tokens the MCP server accepts: live ones whose audience is this server.

A thin layer over the process-wide ``ctx.tokens`` (``axiom_mcp.data.token_verifier``): that
one knows whether a token is live (issued, not revoked, not expired; cached for
``settings.token_cache_seconds``, and dropped from the cache at once when revoked in this
process). This one adds the audience rule of RFC 8707 / MCP authorization ("Token Audience
Binding"): the token's ``resource`` must be this server, either ``settings.mcp_resource`` (the
``/mcp`` endpoint) or ``settings.mcp_url`` (the server as a whole). A token minted for the REST
API, or for anyone else, is refused even though it is live.

It also satisfies the SDK's ``TokenVerifier`` protocol (``verify_token``), so the SDK's own
auth middleware could use it; our ``auth.BearerAuth`` calls ``verify`` and keeps ``TokenInfo``.
"""

from __future__ import annotations

from mcp.server.auth.provider import AccessToken

from axiom_mcp.data.token_verifier import AccessTokenVerifier
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.settings import Settings


def access_token(info: TokenInfo, issuer: str) -> AccessToken:
    """The SDK's view of a verified token.

    ``subject`` (the user) and the ``iss`` claim make the SDK's principal (client, issuer,
    subject), which it binds every streamable-HTTP and SSE session to. ``token`` holds the token's
    record id, not the secret: nothing downstream needs the secret, so it is not carried around.
    """
    return AccessToken(
        token=info.token_id,
        client_id=info.client_id,
        scopes=sorted(info.scopes),
        expires_at=int(info.expires.timestamp()),
        resource=info.resource,
        subject=info.user_id,
        claims={"iss": issuer},
    )


class McpTokenVerifier:
    def __init__(self, tokens: AccessTokenVerifier, settings: Settings) -> None:
        self._tokens = tokens
        self._audiences = frozenset({settings.mcp_resource, settings.mcp_url})
        self._issuer = settings.issuer

    @property
    def issuer(self) -> str:
        return self._issuer

    async def verify(self, raw: str) -> TokenInfo | None:
        """What the token grants, or None when it is not live or not meant for this server."""
        info = await self._tokens.verify(raw)
        if info is None or info.resource not in self._audiences:
            return None
        return info

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK ``TokenVerifier`` protocol."""
        info = await self.verify(token)
        return None if info is None else access_token(info, self._issuer)
