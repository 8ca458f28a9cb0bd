"""Blobs in S3-compatible object storage (AWS S3, MinIO, R2, ...), for several instances.

Uploads stream in parts: a blob that fits one part is a single PUT; a larger one is a multipart
upload, aborted on any error, so an object appears under its key only once complete; uploads a
crash abandoned are listed and aborted by ``remove_partials``. Downloads stream the response body.
The client is aiobotocore: botocore's whole S3 API (explicit multipart create, upload, complete and
abort, and listing open uploads) on asyncio, against any S3-compatible server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from axiom_mcp.blobs.store import KEY, BlobMissing, Meter, Written, check_key

PART_SIZE = 5 * 1024 * 1024
"""Bytes per part of a multipart upload (S3's minimum is 5 MiB): also what one upload holds in memory."""
READ_CHUNK = 256 * 1024


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        """Credentials default to botocore's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ...)."""
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": Config(retries={"mode": "standard"}),
        }
        self._client: Any = None
        self._exits = AsyncExitStack()
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._opening:
            if self._client is None:
                client = get_session().create_client("s3", **self._options)
                self._client = await self._exits.enter_async_context(client)
        return self._client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes], *, limit: int) -> Written:
        s3, name = await self._s3(), self._name(key)
        meter = Meter(limit)
        pending: list[bytes] = []
        held = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        async def send_part() -> None:
            body = b"".join(pending)
            pending.clear()
            number = len(parts) + 1
            sent = await s3.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body)
            parts.append({"PartNumber": number, "ETag": sent["ETag"]})

        try:
            async for chunk in chunks:
                meter.add(chunk)
                pending.append(chunk)
                held += len(chunk)
                if held >= PART_SIZE:
                    if upload_id is None:
                        upload_id = (await s3.create_multipart_upload(Bucket=self.bucket, Key=name))["UploadId"]
                    await send_part()
                    held = 0
            if upload_id is None:
                await s3.put_object(Bucket=self.bucket, Key=name, Body=b"".join(pending))
            else:
                if pending:
                    await send_part()
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                await asyncio.shield(self._abort(name, upload_id))
            raise
        return meter.written()

    async def _abort(self, name: str, upload_id: str) -> None:
        s3 = await self._s3()
        try:
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        except ClientError:  # already gone; remove_partials sweeps whatever is left
            pass

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        s3, name = await self._s3(), self._name(key)
        options: dict[str, Any] = {}
        if start or end is not None:
            if end is not None and end <= start:
                await self._head(name)
                return _empty()
            options["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=name, **options)
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(key) from None
            raise
        return _body(response["Body"])

    async def _head(self, name: str) -> None:
        try:
            await (await self._s3()).head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(name) from None
            raise

    async def delete(self, key: str) -> None:
        await (await self._s3()).delete_object(Bucket=self.bucket, Key=self._name(key))

    async def keys_older_than(self, before: datetime) -> AsyncIterator[str]:
        pages = (await self._s3()).get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        async for page in pages:
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self.prefix):]
                if entry["LastModified"] < before and KEY.match(key):
                    yield key

    async def remove_partials(self, before: datetime) -> int:
        s3 = await self._s3()
        removed = 0
        async for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < before:
                    await self._abort(upload["Key"], upload["UploadId"])
                    removed += 1
        return removed

    async def close(self) -> None:
        await self._exits.aclose()
        self._client = None


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # an async generator with nothing in it


async def _body(body: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in body.iter_chunks(READ_CHUNK):
            yield chunk
    finally:
        body.close()
