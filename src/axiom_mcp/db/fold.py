"""``axiom_fold``: the SQLite function every SQLite connection of ours registers (engine and reads)."""

from __future__ import annotations

FOLD = "axiom_fold"
"""An SQLite function lower-casing all of Unicode (SQLite's lower() does only ASCII), so a search
for "ärzte" finds "Ärzte" as PostgreSQL's ILIKE does."""


def fold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
