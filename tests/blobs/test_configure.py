"""The settings choose the blob store: a folder under the data dir, or S3 from AXIOM_STORAGE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from axiom_mcp.blobs.configure import open_store
from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.blobs.s3 import S3Store
from tests.conftest import make_settings


def test_the_default_is_a_folder_under_the_data_dir(tmp_path: Path) -> None:
    store = open_store(make_settings("sqlite+aiosqlite://", tmp_path))
    assert isinstance(store, FolderStore) and store.root == tmp_path / "files"
    assert not store.root.exists()  # nothing made until the first upload


def test_an_s3_url_names_the_bucket_and_prefix(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite+aiosqlite://", tmp_path, storage_url="s3://axiom-files/team/a",
        s3_endpoint_url="http://127.0.0.1:9000", s3_region="eu-west-1",
    )
    store = open_store(settings)
    assert isinstance(store, S3Store) and (store.bucket, store.prefix) == ("axiom-files", "team/a/")


@pytest.mark.parametrize("url", ["s3://", "file:///srv/files", "https://bucket.example/x", "s3://b/p?x=1"])
def test_other_storage_urls_stop_the_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError, match="AXIOM_STORAGE_URL must look like s3://bucket/prefix"):
        make_settings("sqlite+aiosqlite://", tmp_path, storage_url=url)
