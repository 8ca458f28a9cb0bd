"""Byte counts as people read them, for pages and for messages a person sees."""

from __future__ import annotations


def in_words(value: int) -> str:
    """1 byte, 930 bytes, 1.5 KB, 25 MB, 1 GB (powers of 1024)."""
    if value < 1024:
        return "1 byte" if value == 1 else f"{value} bytes"
    scaled = float(value)
    for unit in ("KB", "MB", "GB", "TB"):
        scaled /= 1024
        if scaled < 1024 or unit == "TB":
            return f"{scaled:.1f}".removesuffix(".0") + f" {unit}"
    raise AssertionError("unreachable")
