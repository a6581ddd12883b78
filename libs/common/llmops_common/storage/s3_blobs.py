"""Artifact bytes in an S3 bucket (AWS, or MinIO through `LLMOPS_S3_ENDPOINT_URL`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from llmops_common.errors import NotFoundError

from .errors import StoreUnavailableError

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Blobs:
    """Blobs as objects under `s3://bucket/prefix/`. Credentials come from boto3's usual chain
    (`AWS_ACCESS_KEY_ID`, profiles, instance roles). An object appears only once its upload completes,
    multipart ones included, so writes are atomic without a temporary name."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # MinIO and most S3 look-alikes serve buckets by path, not by virtual host.
        config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
        self._s3 = client or boto3.client("s3", endpoint_url=endpoint_url, config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri_of(self, key: str) -> str:
        """The `s3://` URI of the blob at `key`."""
        return f"s3://{self.bucket}/{self._key(key)}"

    def exists(self, key: str) -> bool:
        """Whether an object lies at `key`."""
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise StoreUnavailableError(f"S3 head of {self.uri_of(key)} failed: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"S3 head of {self.uri_of(key)} failed: {error}") from error
        return True

    def write(self, key: str, source: BinaryIO) -> None:
        """Uploads what `source` holds to `key`, in parts when it is large."""
        try:
            self._s3.upload_fileobj(source, self.bucket, self._key(key))
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailableError(f"S3 upload to {self.uri_of(key)} failed: {error}") from error

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The object at `key`, streamed."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFoundError(f"no artifact at {self.uri_of(key)}") from None
            raise StoreUnavailableError(f"S3 read of {self.uri_of(key)} failed: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"S3 read of {self.uri_of(key)} failed: {error}") from error
        with contextlib.closing(body):
            yield body

    def ping(self) -> bool:
        """Whether the bucket answers a HEAD with these credentials."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        return True
