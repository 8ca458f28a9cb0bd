"""CSRF protection for every form (OWASP CSRF cheat sheet: synchronizer token, signed double submit).

- Signed in: the form carries HMAC(session's CSRF secret, purpose). The secret lives only in the
  session row, so another site can neither read nor compute the token.
- Not signed in (login, sign-up): a signed double-submit token. A random nonce signed with the
  server's secret goes into a cookie and into the form; a post must carry the same value in both,
  with a valid signature, so a cookie planted by a sibling subdomain is useless without the secret.

As defence in depth, a post whose ``Origin`` header names another origin is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

from axiom_mcp.security.secrets import same

FIELD = "csrf_token"
_SESSION_PURPOSE = b"axiom web form"
_ANON_PURPOSE = "axiom anonymous form:"
MAX_TOKEN_LENGTH = 200


class CsrfFailed(Exception):
    """The post carried no valid CSRF token (or came from another origin): answered with 403."""


def session_token(csrf_secret: str) -> str:
    return hmac.new(csrf_secret.encode(), _SESSION_PURPOSE, hashlib.sha256).hexdigest()


def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), (_ANON_PURPOSE + nonce).encode(), hashlib.sha256).hexdigest()


def new_anonymous_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(secret, nonce)}"


def anonymous_token_is_valid(secret: str, token: str | None) -> bool:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    nonce, _, signature = token.partition(".")
    return bool(nonce) and same(signature, _sign(secret, nonce))


def check_origin(request: Request, web_origin: str) -> None:
    """Refuse a post that says it comes from another origin (browsers send Origin on every POST)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != web_origin:
        raise CsrfFailed("cross-origin post")


def check_session_token(submitted: str | None, csrf_secret: str) -> None:
    if not submitted or len(submitted) > MAX_TOKEN_LENGTH or not same(submitted, session_token(csrf_secret)):
        raise CsrfFailed("missing or wrong CSRF token")


def check_anonymous_token(submitted: str | None, cookie: str | None, secret: str) -> None:
    if not submitted or not cookie or not same(submitted[:MAX_TOKEN_LENGTH], cookie[:MAX_TOKEN_LENGTH]):
        raise CsrfFailed("missing CSRF token or cookie")
    if not anonymous_token_is_valid(secret, submitted):
        raise CsrfFailed("forged CSRF token")
