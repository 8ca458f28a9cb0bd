"""The blob store the settings ask for: S3 when ``storage_url`` is ``s3://bucket/prefix``, else a folder."""

from __future__ import annotations

from urllib.parse import urlsplit

from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.blobs.s3 import S3Store
from axiom_mcp.blobs.store import BlobStore
from axiom_mcp.settings import Settings


def open_store(settings: Settings) -> BlobStore:
    """Nothing is touched until the first call: no folder made, no connection opened."""
    if not settings.storage_url:
        return FolderStore(settings.data_dir / "files")
    parts = urlsplit(settings.storage_url)
    return S3Store(
        parts.netloc,
        parts.path,
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region or None,
    )
