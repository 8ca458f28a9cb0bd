"""Blob stores to test against: a folder, and S3 through moto's real server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.blobs.store import BlobStore
from tests.support.s3 import S3Server, s3_server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(params=["folder", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    """A fresh, empty store of each backend."""
    if request.param == "folder":
        made: BlobStore = FolderStore(tmp_path / "files")
    else:
        server: S3Server = request.getfixturevalue("s3")
        made = server.store(server.new_bucket())
    try:
        yield made
    finally:
        await made.close()
