"""Folding text for comparisons both databases must agree on, done in Python.

``axiom_fold`` is the SQLite function every SQLite connection of ours registers (engine and reads);
``name_key`` is what makes two tag names "the same".
"""

from __future__ import annotations

import unicodedata

FOLD = "axiom_fold"
"""An SQLite function lower-casing all of Unicode (SQLite's lower() does only ASCII), so a search
for "ärzte" finds "Ärzte" as PostgreSQL's ILIKE does."""

KEY_GROWTH = 3
"""Case folding makes a character at most three (``ﬃ`` is ``ffi``): a key's length bound."""


def fold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def name_key(name: str) -> str:
    """``name`` trimmed, composed (NFC) and case-folded: equal for names a person would call the same
    ("Work", " work ", "Straße" and "STRASSE", an "é" typed as one or two code points).

    Computed here and stored beside the name under a unique index, rather than an index on
    lower(name): SQLite's lower() folds ASCII only and PostgreSQL's follows the database's locale,
    so the two would disagree on "Émoji" and "émoji"; this key is the same on both."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name.strip()).casefold())
