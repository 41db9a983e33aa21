"""S3-compatible object storage (AWS S3, MinIO, Garage, Ceph RGW, ...).

URL: `s3://BUCKET/PREFIX?endpoint=https://host:port&region=eu-central-1`.
Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, a profile, an instance role) — never from the URL.
Writes are multipart uploads: the object exists only once the upload is
completed at the end, so an interrupted backup leaves no object behind
(configure the bucket to expire incomplete multipart uploads).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.exceptions import ClientError

from ehrlich.backup.stores.stale import STALE_AFTER
from ehrlich.errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PART_SIZE = 16 * 1024 * 1024  # S3 needs at least 5 MiB per part but the last


class _MultipartWriter(io.RawIOBase):
    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._buffer += view
        while len(self._buffer) >= PART_SIZE:
            self._send(bytes(self._buffer[:PART_SIZE]))
            del self._buffer[:PART_SIZE]
        return view.nbytes

    def _send(self, chunk: bytes) -> None:
        number = len(self._parts) + 1
        etag = self._client.upload_part(Bucket=self._bucket, Key=self._key, PartNumber=number,
                                        UploadId=self._upload, Body=chunk)["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})

    def complete(self) -> None:
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._client.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload,
            MultipartUpload={"Parts": cast(Any, self._parts)})

    def abort(self) -> None:
        with contextlib.suppress(ClientError):
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key,
                                                UploadId=self._upload)


class S3Store:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigurationError(f"backup destination {url!r}: use s3://BUCKET/PREFIX")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self._bucket = parts.hostname
        self._prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self._endpoint = query.get("endpoint")
        self._region = query.get("region")
        self.url = f"s3://{self._bucket}/{self._prefix}" + (
            f" at {self._endpoint}" if self._endpoint else "")
        self._client: S3Client | None = None

    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = boto3.client("s3", endpoint_url=self._endpoint,
                                        region_name=self._region)
        return self._client

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        upload = _MultipartWriter(self._s3(), self._bucket, self._prefix + name)
        try:
            yield cast(BinaryIO, upload)
            upload.complete()
        except BaseException:
            upload.abort()
            raise

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        body = self._s3().get_object(Bucket=self._bucket, Key=self._prefix + name)["Body"]
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()

    def size(self, name: str) -> int | None:
        try:
            head = self._s3().head_object(Bucket=self._bucket, Key=self._prefix + name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    def names(self) -> list[str]:
        found: list[str] = []
        for page in self._s3().get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix):
            found.extend(o["Key"][len(self._prefix):] for o in page.get("Contents", [])
                         if "/" not in o["Key"][len(self._prefix):])
        return sorted(found)

    def delete(self, name: str) -> None:
        self._s3().delete_object(Bucket=self._bucket, Key=self._prefix + name)

    def discard_partials(self, *, now: datetime) -> int:
        """Abort multipart uploads (the S3 form of a temporary file) begun STALE_AFTER ago."""
        limit, aborted = now - STALE_AFTER, 0
        for page in self._s3().get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=self._prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < limit:
                    with contextlib.suppress(ClientError):
                        self._s3().abort_multipart_upload(
                            Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                        aborted += 1
        return aborted

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
