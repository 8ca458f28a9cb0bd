"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, used by MCP).

A ``client_id`` that is an https URL names a JSON document describing the client. We fetch it with
SSRF guards, check that its ``client_id`` equals the URL, and keep it in ``_oauth_clients``
(``source='cimd'``) for ``settings.cimd_cache_seconds``; its ``redirect_uris`` are then enforced
like a registration's. Neither the mcp SDK nor Authlib has a server side for this.

SSRF guards (the URL is chosen by whoever starts an authorization):
- https only (``cimd_allow_http`` is a test switch, refused in production);
- the host is resolved once and every address must be public (not private, loopback, link-local,
  multicast or reserved) unless ``cimd_allow_private_addresses`` (a test switch); the connection
  goes to the checked address (Host header and TLS SNI carry the name), so a second DNS answer
  cannot swap in an internal address (DNS rebinding);
- no redirect is followed at all (so none can lead to an internal address);
- at most ``cimd_max_bytes`` are read, within ``cimd_timeout_seconds`` for the whole fetch.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.clients import CODE_GRANT, REFRESH_GRANT, extra_metadata
from axiom_mcp.oauth.errors import InvalidClient, OAuthError
from axiom_mcp.oauth.redirects import check_redirect_uris
from axiom_mcp.oauth.scopes import known_scopes
from axiom_mcp.oauth.upsert import insert_if_absent
from axiom_mcp.settings import Settings

_SUPPORTED_GRANTS = (CODE_GRANT, REFRESH_GRANT)
_DEFAULT_GRANTS = [CODE_GRANT, REFRESH_GRANT]


class DocumentRefused(InvalidClient):
    """The document could not be fetched safely, or it is not a valid client description."""


def is_metadata_document_url(client_id: str, settings: Settings) -> bool:
    """Whether ``client_id`` is meant as a metadata document URL (then it must also be valid)."""
    return client_id.startswith("https://") or (settings.cimd_allow_http and client_id.startswith("http://"))


def check_document_url(url: str, settings: Settings) -> SplitResult:
    """The URL rules of the draft (section 3): https, a path, no fragment, no user info, no dot segments."""
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


async def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DocumentRefused(f"The client_id host {host!r} does not resolve.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DocumentRefused(f"The client_id host {host!r} does not resolve.")
    return addresses


async def _download(parts: SplitResult, settings: Settings) -> bytes:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
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


async def fetch_document(url: str, settings: Settings) -> dict[str, Any]:
    """Fetch and parse the document at ``url`` under the SSRF guards above."""
    parts = check_document_url(url, settings)
    try:
        async with asyncio.timeout(settings.cimd_timeout_seconds):
            body = await _download(parts, settings)
    except TimeoutError as exc:
        raise DocumentRefused("Fetching the client metadata document timed out.") from exc
    except httpx.HTTPError as exc:
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


async def _store(session: AsyncSession, url: str, values: dict[str, Any], exists: bool) -> None:
    values = {**values, "source": "cimd", "metadata_fetched_at": utcnow(), "client_secret_hash": None}
    if not exists:
        columns = {("metadata" if k == "client_metadata" else k): v for k, v in values.items()}
        await insert_if_absent(session, OAuthClient, {"client_id": url, **columns}, ["client_id"])
    await session.execute(update(OAuthClient).where(OAuthClient.client_id == url).values(**values))


async def prefetch(db: Database, settings: Settings, client_id: str | None) -> None:
    """Bring a document client's cached row up to date *outside* the request's transaction, so a
    slow document server never holds a database connection (a pool-exhaustion lever otherwise).
    A no-op for other client ids; errors are the same as ``resolve``'s."""
    if not client_id or not is_metadata_document_url(client_id, settings):
        return
    check_document_url(client_id, settings)
    async with db.session() as session:
        row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if _is_fresh(row, settings):
            return
        exists = row is not None
    values = client_values(client_id, await fetch_document(client_id, settings))
    async with db.session() as session:
        await _store(session, client_id, values, exists)


async def resolve(session: AsyncSession, settings: Settings, url: str) -> OAuthClient:
    """The client a metadata document URL names: from the cache if fresh, else fetched now."""
    check_document_url(url, settings)
    row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == url))
    if row is not None and _is_fresh(row, settings):
        return row
    values = client_values(url, await fetch_document(url, settings))
    await _store(session, url, values, exists=row is not None)
    row = await session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == url).execution_options(populate_existing=True)
    )
    assert row is not None
    return row
