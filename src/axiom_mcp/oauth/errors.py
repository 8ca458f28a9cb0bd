"""OAuth protocol errors: typed exceptions carrying their RFC code, rendered once by the HTTP layer.

RFC 6749 section 5.2 (token endpoint), section 4.1.2.1 (authorization endpoint), RFC 7591
section 3.2.2 (registration), RFC 6750 section 3.1 (bearer tokens), RFC 8707 section 2
(``invalid_target``). The core raises these deep; ``axiom_mcp.auth_service.oauth_endpoints`` turns them into
``{"error", "error_description"}`` JSON (or, on the browser-facing authorization endpoint, a page
or a redirect) in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Revoked:
    """What a revocation killed, so the HTTP layer can make the token cache forget it at once."""

    user_id: str | None = None
    client_id: str | None = None
    grant_id: str | None = None
    token: str | None = None
    """A raw access token, when exactly one was revoked."""


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the registered code, ``description`` is for humans."""

    error: str = "invalid_request"
    status_code: ClassVar[int] = 400

    def __init__(
        self,
        description: str = "",
        *,
        error: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        revoked: Iterable[Revoked] = (),
        commit: bool = False,
    ) -> None:
        super().__init__(description or error or self.error)
        if error is not None:
            self.error = error
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]
        self.description = description
        self.headers = dict(headers or {})
        self.revoked: tuple[Revoked, ...] = tuple(revoked)
        """Revocations done before the error was raised; they must be committed, not rolled back."""
        self.commit = commit or bool(self.revoked)
        """Whether the changes made before the error (a burned code, revocations) must be kept."""

    def to_dict(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (RFC 6749 section 5.2): 401, so Claude re-registers."""

    error = "invalid_client"
    status_code = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 section 2: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


class InteractionRequired(OAuthError):
    """OpenID Connect Core 3.1.2.6: ``prompt=none`` asked for no interaction, which this server
    cannot honour (the user always answers on the consent page)."""

    error = "interaction_required"


class LoginRequired(OAuthError):
    """OpenID Connect Core 3.1.2.6: ``prompt=login`` asked that the user enter their password again,
    and they have not since the request was made. The web app sends them to its login page."""

    error = "login_required"


class InvalidToken(OAuthError):
    """RFC 6750 section 3.1: a bearer token that is missing, expired, revoked or not for us."""

    error = "invalid_token"
    status_code = 401


class InvalidRedirectUri(OAuthError):
    """RFC 7591 section 3.2.2."""

    error = "invalid_redirect_uri"


class InvalidClientMetadata(OAuthError):
    """RFC 7591 section 3.2.2."""

    error = "invalid_client_metadata"


class TooManyRequests(OAuthError):
    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class MethodNotAllowed(OAuthError):
    error = "invalid_request"
    status_code = 405

    def __init__(self, allowed: Iterable[str]) -> None:
        methods = ", ".join(sorted(allowed))
        super().__init__(f"Use {methods} on this endpoint.", headers={"Allow": methods})


class ServerError(OAuthError):
    error = "server_error"
    status_code = 500


class RedirectToClient(OAuthError):
    """An authorization error sent back to the client's verified redirect URI (RFC 6749 4.1.2.1).

    Raised only after the client and its redirect URI are verified; before that an error is
    shown to the user and never redirected (no open redirector).
    """

    status_code = 302

    def __init__(self, cause: OAuthError, redirect_url: str) -> None:
        super().__init__(cause.description, error=cause.error)
        self.cause = cause
        self.redirect_url = redirect_url
