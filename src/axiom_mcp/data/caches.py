"""The caches the data layer keeps per database: made with it, shared by its read pool and sessions."""

from __future__ import annotations

from typing import Any

from axiom_mcp.data.counts import CountCache
from axiom_mcp.data.marks import MarksCache


def database_caches(*, counts: CountCache | None = None, marks: MarksCache | None = None) -> dict[str, Any]:
    """``Database.info`` for a new database: a count cache (data/counts.py) and rank marks
    (data/marks.py). Tests pass their own, say marks with a small block."""
    return {"counts": counts or CountCache(), "marks": marks or MarksCache()}
