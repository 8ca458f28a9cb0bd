"""Byte counts in words (axiom_mcp/sizes.py): what the account page, file lists and undo's refusal show."""

from __future__ import annotations

import pytest

from axiom_mcp.sizes import in_words


@pytest.mark.parametrize(("count", "words"), [
    pytest.param(0, "0 bytes", id="nothing"),
    pytest.param(1, "1 byte", id="one"),
    pytest.param(1023, "1023 bytes", id="under-a-KB"),
    pytest.param(1024, "1 KB", id="a-KB"),
    pytest.param(1536, "1.5 KB", id="one-and-a-half"),
    pytest.param(2000, "2 KB", id="rounded-to-one-decimal"),
    pytest.param(25 * 1024 * 1024, "25 MB", id="max-file-size"),
    pytest.param(1024 ** 3, "1 GB", id="quota"),
    pytest.param(3 * 1024 ** 4, "3 TB", id="TB"),
    pytest.param(5000 * 1024 ** 4, "5000 TB", id="stays-in-TB"),
])
def test_in_words(count: int, words: str) -> None:
    assert in_words(count) == words
