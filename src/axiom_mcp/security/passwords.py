"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, RFC 9106 second recommended option


@cache
def _dummy_hash() -> str:
    # Made on first use, not at import: a hash costs ~0.1-1 s, which every `axiom` command paid.
    return _hasher.hash("an unknown account still costs one verification")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown account (``None``) costs the same time and fails."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


async def hash_password_off_loop(password: str) -> str:
    """``hash_password`` in a worker thread: argon2 takes ~0.1-1 s and releases the GIL, so the
    event loop keeps serving every other request meanwhile."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(stored_hash: str | None, password: str) -> bool:
    """``verify_password`` in a worker thread (see ``hash_password_off_loop``)."""
    return await asyncio.to_thread(verify_password, stored_hash, password)
