"""Redirect URIs: what may be registered, how a request's URI is matched, and building responses.

- Registration (RFC 7591 section 2, OAuth 2.1 section 2.3.1): https, or http on a loopback host
  (RFC 8252 section 7.3); no fragment, no user info, no other scheme (``javascript:``, ``data:``).
  Invisible and control characters (bidi overrides and isolates, zero-width characters, soft
  hyphens, C0/C1 controls, line separators) are refused anywhere in the URI: they make what a
  person reads differ from where the browser goes. An internationalized host must have an ASCII
  (IDNA, UTS 46) form.
- Matching (OAuth 2.1 section 4.1.1, RFC 8252 section 7.3): exact string comparison, except that a
  loopback http URI matches with any port (no case folding, no trailing-slash leniency).
- Showing (the consent page names the host the code goes to): the ASCII form, so a Cyrillic "с"
  cannot pass for a Latin "c", with a warning when the name mixes scripts (UTS 39 section 5).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlencode, urlsplit

import idna

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
    if has_invisible_characters(uri):
        raise InvalidRedirectUri(f"Redirect URI {shown!r} contains whitespace, invisible or control characters.")
    parts = _parse(uri)
    if parts is None:
        raise InvalidRedirectUri(f"Redirect URI {shown!r} is not a valid URL.")
    if parts.hostname and ascii_host(parts.hostname) is None:
        raise InvalidRedirectUri(f"Redirect URI {shown!r}: the host is not a valid internationalized domain name.")
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


_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
"""Controls, format characters (bidi marks, zero-width, soft hyphen, BOM), line and paragraph
separators, private-use, surrogate and unassigned code points."""


def has_invisible_characters(text: str) -> bool:
    """Whether ``text`` holds whitespace, control or invisible formatting characters."""
    return any(ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text)


def ascii_host(host: str) -> str | None:
    """The host's ASCII form (IDNA, UTS 46 mapping), or None if it has none."""
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def scripts_of(host: str) -> list[str]:
    """The scripts of the host's letters, in order of first use (``["Cyrillic", "Latin"]``)."""
    found: dict[str, None] = {}
    for ch in host:
        if unicodedata.category(ch).startswith("L"):
            found[unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0].capitalize()] = None
    return list(found)


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
    """The host in ASCII form (and a non-default port) the consent page names: where the code will go."""
    parts = _parse(uri)
    if parts is None or not parts.hostname:
        return uri[:100].encode("ascii", "backslashreplace").decode()
    host = ascii_host(parts.hostname) or parts.hostname.encode("ascii", "backslashreplace").decode()
    host = host if ":" not in host else f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def host_warning(uri: str) -> str | None:
    """What to tell the user about a redirect host that is not plain ASCII, or None."""
    parts = _parse(uri)
    host = parts.hostname if parts is not None else None
    if not host or host.isascii():
        return None
    scripts = scripts_of(host)
    if len(scripts) > 1:
        return (
            f"This address mixes {' and '.join(scripts)} letters: it may imitate another address. "
            "It is shown in its ASCII form; check it carefully."
        )
    return "This address is written in non-Latin letters; it is shown in its ASCII form."


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to its query, keeping the registered query as it is."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    if not extra:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{extra}"
