"""Where a page may send the browser next: ``return_to`` is honoured only for paths of this site.

An open redirect would let a link that starts on our login page end on a look-alike site. Browsers
are lenient with what follows the first slash (``//evil.com`` and ``/\\evil.com`` are other hosts;
tabs and newlines are dropped, so ``/\\t/evil.com`` is ``//evil.com``), so anything unusual is
refused rather than cleaned.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

MAX_RETURN_TO = 2000
DEFAULT_LANDING = "/"


def safe_return_to(value: str | None) -> str | None:
    """``value`` when it is a path on this site (``/...``), else None."""
    if not value or len(value) > MAX_RETURN_TO:
        return None
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    return value


def landing(value: str | None, default: str = DEFAULT_LANDING) -> str:
    return safe_return_to(value) or default


def login_url(base: str, return_to: str | None) -> str:
    """The login page, asked to come back to ``return_to`` (when it is safe)."""
    target = safe_return_to(return_to)
    if target is None or target == DEFAULT_LANDING:
        return f"{base}/auth"
    return f"{base}/auth?return_to={quote(target, safe='')}"
