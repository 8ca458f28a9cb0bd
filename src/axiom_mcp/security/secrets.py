"""Random credentials and how they are stored: only a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str = "") -> str:
    """A fresh credential with 256 bits of randomness; the prefix tells kinds apart in logs and scanners."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    """SHA-256 hex of a high-entropy credential.

    A fast hash is right here (unlike passwords): tokens carry 256 random bits, so a leaked table
    cannot be brute-forced, and lookups stay one indexed equality query.
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
