"""PocketBase-style record ids and UTC timestamps."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_LENGTH = 15


def new_id() -> str:
    """A 15-character lowercase alphanumeric id, as PocketBase makes them (~77 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)
