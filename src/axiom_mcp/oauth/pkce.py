"""PKCE (RFC 7636), S256 only: ``plain`` is refused, as OAuth 2.1 section 4.1.1 recommends.

Authlib's ``rfc7636/challenge.py`` is the model; it is a dozen lines, so we keep them here rather
than take Authlib as a dependency for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from axiom_mcp.oauth.errors import InvalidGrant, InvalidRequest

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
"""RFC 7636 section 4.1: 43 to 128 unreserved characters."""
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
"""base64url of a SHA-256 digest, unpadded: exactly 43 characters."""


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge of an authorization request, or ``invalid_request`` (RFC 7636 section 4.4.1)."""
    if not challenge:
        raise InvalidRequest("code_challenge is required (PKCE with S256).")
    if method != "S256":
        # A missing method means "plain" (RFC 7636 section 4.3), which we refuse too.
        raise InvalidRequest("code_challenge_method must be S256; plain is not supported.")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be 43 base64url characters (an S256 digest).")
    return challenge


def verify(verifier: str | None, challenge: str) -> None:
    """RFC 7636 section 4.6: the verifier must hash to the stored challenge."""
    if not verifier:
        raise InvalidRequest("code_verifier is required.")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier must be 43 to 128 unreserved characters.")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge.")
