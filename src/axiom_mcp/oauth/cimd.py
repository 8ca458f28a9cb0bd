"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, used by MCP).

A ``client_id`` that is an https URL names a JSON document describing the client. We fetch it with
SSRF guards, check that its ``client_id`` equals the URL, and keep it in ``_oauth_clients``
(``source='cimd'``) for ``settings.cimd_cache_seconds``; its ``redirect_uris`` are then enforced
like a registration's. Neither the mcp SDK nor Authlib has a server side for this.

Whoever starts an authorization chooses the URL, so fetching it is a request on a stranger's behalf:

- SSRF guards: https only (``cimd_allow_http`` is a test switch, refused in production); an ASCII
  URL; the host resolved once, every address public (not private, loopback, link-local, multicast
  or reserved) unless ``cimd_allow_private_addresses`` (a test switch); the connection goes to the
  checked address (Host header and TLS SNI carry the name), so a second DNS answer cannot swap in
  an internal address (DNS rebinding); no redirect followed; at most ``cimd_max_bytes`` read
  within ``cimd_timeout_seconds`` for the whole fetch.
- Not a tool for strangers (``MetadataDocuments``): at most ``cimd_fetch_rate_limit`` fetches a
  minute per client address (IPv6 per /64); a failed URL is refused without a new fetch for
  ``cimd_failure_cache_seconds``; DNS lookups run on a few threads of their own
  (``resolver.BoundedResolver``).
- One answer for every failure (``REFUSED``): what the fetch met (an HTTP status, a refused
  connection, a timeout) would make the endpoint a port scanner; it goes to the log only.
- Fetches happen before the request's transaction (``prefetch``), so a slow document server never
  holds a database connection; inside it the stored row is read (``document_client``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import oauth_clients
from axiom_mcp.data.throttle import address_key
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.client_metadata import CODE_GRANT, REFRESH_GRANT, extra_metadata
from axiom_mcp.oauth.errors import InvalidClient, OAuthError
from axiom_mcp.oauth.ratelimit import RateLimiter
from axiom_mcp.oauth.redirects import check_redirect_uris, has_invisible_characters
from axiom_mcp.oauth.resolver import BoundedResolver, LookupFailed
from axiom_mcp.oauth.scopes import known_scopes
from axiom_mcp.settings import Settings

log = logging.getLogger("axiom.oauth.cimd")

REFUSED = "The client_id does not name a usable client metadata document."
_SUPPORTED_GRANTS = (CODE_GRANT, REFRESH_GRANT)
_DEFAULT_GRANTS = [CODE_GRANT, REFRESH_GRANT]


class DocumentRefused(InvalidClient):
    """The document could not be fetched safely, or it is not a valid client description. The
    caller is told ``REFUSED``; ``reason`` says what happened, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED)
        self.reason = reason


def is_metadata_document_url(client_id: str, settings: Settings) -> bool:
    """Whether ``client_id`` is meant as a metadata document URL (then it must also be valid)."""
    return client_id.startswith("https://") or (settings.cimd_allow_http and client_id.startswith("http://"))


def check_document_url(url: str, settings: Settings) -> SplitResult:
    """The URL rules of the draft (section 3): https, a path, no fragment, no user info, no dot segments."""
    if not url.isascii():
        raise DocumentRefused("The client_id URL is not ASCII (an internationalized host must be punycode).")
    if has_invisible_characters(url):
        raise DocumentRefused("The client_id URL contains whitespace or control characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise DocumentRefused("The client_id URL is not valid.") from exc
    allowed = ("https", "http") if settings.cimd_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise DocumentRefused("A client_id URL must use https.")
    if not parts.hostname or "@" in parts.netloc:
        raise DocumentRefused("The client_id URL needs a host and no user information.")
    if "#" in url or parts.path in ("", "/"):
        raise DocumentRefused("The client_id URL needs a path and no fragment.")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise DocumentRefused("The client_id URL must not contain dot segments.")
    return parts


_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
"""RFC 6052's well-known translation prefix: the low 32 bits are the IPv4 address a NAT64
gateway connects to (Python counts the prefix as global whatever it embeds)."""
_LOCAL_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b:1::/48")
"""RFC 8215: for local use only, so never public."""
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may end up routed to: v4-mapped,
    v4-compatible, NAT64, 6to4 and Teredo."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_PREFIX:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (the only kind a document may come from).

    An IPv6 address that embeds an IPv4 address (``::ffff:10.0.0.1``, ``64:ff9b::a00:1``,
    ``2002:a00:1::``) is public only if the embedded address is too.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64_PREFIX or not all(is_public_address(str(v4)) for v4 in _embedded_ipv4(ip)):
            return False
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _download(parts: SplitResult, settings: Settings, resolver: BoundedResolver) -> bytes:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolver.resolve(host, port)
    except LookupFailed as exc:
        raise DocumentRefused(f"The client_id host does not resolve: {exc}.") from exc
    if not settings.cimd_allow_private_addresses:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise DocumentRefused(f"The client_id host {host!r} resolves to a non-public address.")
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    target = parts._replace(netloc=f"{literal}:{port}", fragment="").geturl()
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    headers = {"Host": parts.netloc, "Accept": "application/json", "User-Agent": "axiom-mcp (client metadata)"}
    limit = settings.cimd_max_bytes
    async with (
        httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=settings.cimd_timeout_seconds) as client,
        client.stream("GET", target, headers=headers, extensions=extensions) as response,
    ):
        if response.is_redirect:
            raise DocumentRefused("The client_id URL redirects; redirects are not followed.")
        if response.status_code != 200:
            raise DocumentRefused(f"Fetching the client_id URL gave HTTP {response.status_code}.")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise DocumentRefused(f"The client metadata document is larger than {limit} bytes.")
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                raise DocumentRefused(f"The client metadata document is larger than {limit} bytes.")
        return bytes(body)


async def fetch_document(url: str, settings: Settings, resolver: BoundedResolver) -> dict[str, Any]:
    """Fetch and parse the document at ``url`` under the SSRF guards above."""
    parts = check_document_url(url, settings)
    try:
        async with asyncio.timeout(settings.cimd_timeout_seconds):
            body = await _download(parts, settings, resolver)
    except TimeoutError as exc:
        raise DocumentRefused("Fetching the client metadata document timed out.") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
        raise DocumentRefused(f"Fetching the client metadata document failed ({type(exc).__name__}).") from exc
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentRefused("The client metadata document is not JSON.") from exc
    if not isinstance(document, dict):
        raise DocumentRefused("The client metadata document must be a JSON object.")
    return document


def client_values(url: str, document: dict[str, Any]) -> dict[str, Any]:
    """The ``_oauth_clients`` columns for a document, after checking it describes ``url``."""
    if document.get("client_id") != url:
        raise DocumentRefused("The document's client_id differs from the URL it was fetched from.")
    try:
        redirect_uris = check_redirect_uris(document.get("redirect_uris"))
    except OAuthError as exc:
        raise DocumentRefused(f"The document's redirect_uris are not acceptable: {exc.description}") from exc
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none" or "client_secret" in document:
        # A public document cannot carry a shared secret (draft section 4.1); private_key_jwt is
        # not supported here.
        raise DocumentRefused("A client metadata document must use token_endpoint_auth_method 'none'.")
    grants = document.get("grant_types", _DEFAULT_GRANTS)
    if not isinstance(grants, list) or CODE_GRANT not in grants:
        raise DocumentRefused("The document's grant_types must include authorization_code.")
    responses = document.get("response_types", ["code"])
    if not isinstance(responses, list) or "code" not in responses:
        raise DocumentRefused("The document's response_types must include code.")
    name = document.get("client_name")
    scope = document.get("scope")
    return {
        "client_name": name.strip()[:255] if isinstance(name, str) else "",
        "redirect_uris": redirect_uris,
        "grant_types": [g for g in _SUPPORTED_GRANTS if g in grants],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": known_scopes(scope) if isinstance(scope, str) else None,
        "client_metadata": extra_metadata(document),
    }


def _is_fresh(row: OAuthClient | None, settings: Settings) -> bool:
    if row is None or row.source != "cimd" or row.metadata_fetched_at is None:
        return False
    return row.metadata_fetched_at > utcnow() - timedelta(seconds=settings.cimd_cache_seconds)


class RecentFailures:
    """Document URLs whose fetch failed lately: refused again without a fetch for ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic, max_urls: int = 10_000) -> None:
        self.seconds = seconds
        self._clock = clock
        self._max_urls = max_urls
        self._until: OrderedDict[str, float] = OrderedDict()

    def remember(self, url: str) -> None:
        self._until[url] = self._clock() + self.seconds
        self._until.move_to_end(url)
        while len(self._until) > self._max_urls:
            self._until.popitem(last=False)

    def failed_lately(self, url: str) -> bool:
        until = self._until.get(url)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[url]
            return False
        return True


class MetadataDocuments:
    """Fetching documents for one process: the rate limit, the failures remembered, the resolver.

    ``fetch_limiter`` counts fetches per client address key; any object with ``hit(key, what)``
    raising ``TooManyRequests`` will do.
    """

    def __init__(self, settings: Settings, *, fetch_limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.fetches = fetch_limiter or RateLimiter(settings.cimd_fetch_rate_limit, 60.0)
        self.failures = RecentFailures(settings.cimd_failure_cache_seconds)
        self.resolver = BoundedResolver(settings.cimd_resolver_threads, settings.cimd_dns_timeout_seconds)

    async def prefetch(self, db: Database, client_id: str | None, *, address: str | None) -> None:
        """Bring a document client's stored row up to date, outside any request transaction. A no-op
        for other client ids; ``DocumentRefused`` (logged with its reason) or ``TooManyRequests``."""
        if not client_id or not is_metadata_document_url(client_id, self.settings):
            return
        if self.failures.failed_lately(client_id):
            raise DocumentRefused("it failed lately and is not fetched again yet")
        try:
            await self._refresh(db, client_id, address)
        except DocumentRefused as exc:
            log.info("client metadata document %r refused: %s", client_id[:300], exc.reason)
            self.failures.remember(client_id)
            raise

    async def _refresh(self, db: Database, url: str, address: str | None) -> None:
        check_document_url(url, self.settings)
        async with db.session() as session:
            if _is_fresh(await oauth_clients.get_client(session, url), self.settings):
                return
        self.fetches.hit(address_key(address), "client metadata document fetches")
        values = client_values(url, await fetch_document(url, self.settings, self.resolver))
        async with db.session() as session:
            await oauth_clients.store_document_client(session, url, values, fetched_at=utcnow())


async def document_client(session: AsyncSession, settings: Settings, url: str) -> OAuthClient:
    """The stored client of a metadata document URL (``prefetch`` has brought it up to date)."""
    check_document_url(url, settings)
    row = await oauth_clients.get_client(session, url)
    if row is None or row.source != "cimd":
        raise DocumentRefused("no document was fetched for it")
    return row
