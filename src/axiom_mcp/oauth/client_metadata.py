"""What registrations and metadata documents share: the grants we support and the descriptive
metadata we keep (RFC 7591 section 2)."""

from __future__ import annotations

CODE_GRANT = "authorization_code"
REFRESH_GRANT = "refresh_token"
URI_METADATA = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
TEXT_METADATA = ("software_id", "software_version")


def extra_metadata(source: dict[str, object]) -> dict[str, str]:
    """The descriptive metadata we keep and echo: http(s) URIs and short strings only, so nothing a
    client sends can turn into a ``javascript:`` link on a page."""
    kept: dict[str, str] = {}
    for key in URI_METADATA:
        value = source.get(key)
        if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 2000:
            kept[key] = value
    for key in TEXT_METADATA:
        value = source.get(key)
        if isinstance(value, str) and len(value) <= 255:
            kept[key] = value
    return kept
