"""Redirect URIs: what may be registered, how a request's URI is matched, and building responses.

- Registration (RFC 7591 section 2, OAuth 2.1 section 2.3.1): https, or http on a loopback host
  (RFC 8252 section 7.3); no fragment, no user info, no other scheme (``javascript:``, ``data:``).
- Matching (OAuth 2.1 section 4.1.1, RFC 8252 section 7.3): exact string comparison, except that a
  loopback http URI matches with any port. The seed compared ignoring case and trailing slashes;
  we do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlencode, urlsplit

from axiom_mcp.oauth.errors import InvalidRedirectUri

MAX_REDIRECT_URI_LENGTH = 2000
MAX_REDIRECT_URIS = 10
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _parse(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    return parts


def check_redirect_uri(uri: object) -> str:
    """``uri`` if it may be registered, else ``InvalidRedirectUri`` naming the rule it breaks."""
    if not isinstance(uri, str) or not uri:
        raise InvalidRedirectUri("Each redirect URI must be a non-empty string.")
    shown = uri[:200]
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise InvalidRedirectUri(f"Redirect URI longer than {MAX_REDIRECT_URI_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri):
        raise InvalidRedirectUri(f"Redirect URI {shown!r} contains whitespace or control characters.")
    parts = _parse(uri)
    if parts is None:
        raise InvalidRedirectUri(f"Redirect URI {shown!r} is not a valid URL.")
    if "#" in uri:
        raise InvalidRedirectUri(f"Redirect URI {shown!r} must not contain a fragment.")
    if "@" in parts.netloc:
        raise InvalidRedirectUri(f"Redirect URI {shown!r} must not contain user information.")
    if parts.scheme == "https":
        if not parts.hostname:
            raise InvalidRedirectUri(f"Redirect URI {shown!r} has no host.")
        return uri
    if parts.scheme == "http":
        if parts.hostname in LOOPBACK_HOSTS:
            return uri
        raise InvalidRedirectUri(f"Redirect URI {shown!r}: http is allowed only on a loopback host; use https.")
    raise InvalidRedirectUri(f"Redirect URI {shown!r}: the scheme must be https (or http on loopback).")


def check_redirect_uris(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidRedirectUri("redirect_uris must be a non-empty list of URLs.")
    if len(value) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    return [check_redirect_uri(uri) for uri in value]


def _without_port(parts: SplitResult) -> tuple[str, str, str, str]:
    netloc = parts.netloc
    if parts.port is not None or netloc.endswith(":"):
        netloc = netloc.rpartition(":")[0]
    return parts.scheme, netloc, parts.path, parts.query


def _is_loopback_http(parts: SplitResult) -> bool:
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and "@" not in parts.netloc


def redirect_uri_matches(requested: str, registered: Iterable[str]) -> bool:
    """Whether ``requested`` is one of the registered URIs (exact; loopback ports may differ)."""
    registered = list(registered)
    if requested in registered:
        return True
    if "#" in requested:
        return False
    asked = _parse(requested)
    if asked is None or not _is_loopback_http(asked):
        return False
    for uri in registered:
        known = _parse(uri)
        if known is not None and _is_loopback_http(known) and _without_port(known) == _without_port(asked):
            return True
    return False


def redirect_host(uri: str) -> str:
    """The host (and a non-default port) the consent page names: where the code will go."""
    parts = _parse(uri)
    if parts is None or not parts.hostname:
        return uri[:100]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{host}:{parts.port}" if parts.port else host


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to its query, keeping the registered query as it is."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    if not extra:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{extra}"
