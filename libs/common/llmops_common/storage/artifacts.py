"""The artifact store: bytes kept by their sha256, handed around as `ArtifactRef` claim checks.

An event never carries an artifact's bytes, only its `ArtifactRef` (URI, sha256, size). Storing the
same bytes twice stores them once, and every read checks the bytes against the reference's sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, Protocol
from urllib.parse import unquote, urlparse

from llmops_common.errors import NotFoundError
from llmops_common.events.base import ArtifactRef
from llmops_common.settings import PlatformSettings

from .errors import ArtifactIntegrityError, StoreConfigError
from .folder_archive import pack_folder, unpack_folder
from .local_blobs import LocalBlobs, atomic_file

CHUNK = 1 << 20


class BlobBackend(Protocol):
    """Where the bytes lie: a local folder or an S3 prefix. Keys are relative, like `sha256/ab/ab12...`."""

    def uri_of(self, key: str) -> str:
        """The URI that names the blob at `key`."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob lies at `key`."""
        ...

    def write(self, key: str, source: BinaryIO) -> None:
        """Stores `source`'s bytes at `key` so that no reader ever sees a partial blob."""
        ...

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """The blob at `key` for reading; `NotFoundError` when there is none."""
        ...

    def ping(self) -> bool:
        """Whether the backend is reachable and writable now."""
        ...


def blob_key(sha256: str) -> str:
    """Where the blob of a hash lies; the two-letter fan-out keeps any one folder small."""
    return f"sha256/{sha256[:2]}/{sha256}"


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class ArtifactStore:
    """Content-addressed artifacts on a `BlobBackend`; see `open_artifact_store`. Calls block on disk
    or network I/O: async code runs them in a worker thread."""

    def __init__(self, backend: BlobBackend) -> None:
        self.backend = backend

    def _ref(self, sha256: str, size: int) -> ArtifactRef:
        return ArtifactRef(uri=self.backend.uri_of(blob_key(sha256)), sha256=sha256, size_bytes=size)

    def put_bytes(self, data: bytes) -> ArtifactRef:
        """Stores `data` unless the same bytes are stored already."""
        ref = self._ref(hashlib.sha256(data).hexdigest(), len(data))
        if not self.backend.exists(blob_key(ref.sha256)):
            self.backend.write(blob_key(ref.sha256), io.BytesIO(data))
        return ref

    def put_file(self, path: Path) -> ArtifactRef:
        """Stores a file's bytes, streamed; the file must not change meanwhile (reads would then fail)."""
        ref = self._ref(*file_sha256(path))
        if not self.backend.exists(blob_key(ref.sha256)):
            with path.open("rb") as source:
                self.backend.write(blob_key(ref.sha256), source)
        return ref

    def put_folder(self, folder: Path) -> ArtifactRef:
        """Stores a folder (a model, an adapter) as one reproducible tar; `fetch_folder` unpacks it."""
        with tempfile.TemporaryDirectory(prefix="llmops-pack-") as scratch:
            archive = Path(scratch) / "folder.tar"
            with archive.open("wb") as out:
                pack_folder(folder, out)
            return self.put_file(archive)

    def exists(self, ref: ArtifactRef) -> bool:
        """Whether the store holds the artifact `ref` names."""
        return self.backend.exists(self._key_of(ref))

    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """The artifact's bytes, checked against `ref`."""
        buffer = io.BytesIO()
        self._copy_checked(ref, buffer)
        return buffer.getvalue()

    def fetch_file(self, ref: ArtifactRef, target: Path) -> Path:
        """Writes the artifact to `target`, checked and atomically: a bad copy never lands there."""
        with atomic_file(target) as out:
            self._copy_checked(ref, out)
        return target

    def fetch_folder(self, ref: ArtifactRef, target: Path) -> Path:
        """Unpacks a `put_folder` artifact into `target`, which must not exist yet; it appears whole."""
        if target.exists():
            raise FileExistsError(f"{target} exists already")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".tmp-", dir=target.parent) as scratch:
            archive, unpacked = Path(scratch) / "folder.tar", Path(scratch) / "folder"
            self.fetch_file(ref, archive)
            unpacked.mkdir()
            unpack_folder(archive, unpacked)
            os.replace(unpacked, target)
        return target

    def ping(self) -> bool:
        """Whether the backend is reachable and writable now; for `/readyz`."""
        return self.backend.ping()

    def _key_of(self, ref: ArtifactRef) -> str:
        key = blob_key(ref.sha256)
        if ref.uri != self.backend.uri_of(key):
            raise NotFoundError(
                f"{ref.uri} is not in this artifact store (it keeps this hash at {self.backend.uri_of(key)})"
            )
        return key

    def _copy_checked(self, ref: ArtifactRef, out: IO[bytes]) -> None:
        digest, size = hashlib.sha256(), 0
        with self.backend.open(self._key_of(ref)) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if digest.hexdigest() != ref.sha256 or size != ref.size_bytes:
            raise ArtifactIntegrityError(
                f"{ref.uri} holds {size} bytes hashing to {digest.hexdigest()}, "
                f"not the {ref.size_bytes} bytes hashing to {ref.sha256} that the reference names",
                detail={"uri": ref.uri},
            )


def open_artifact_store(settings: PlatformSettings) -> ArtifactStore:
    """The store `settings.artifact_url` names: `s3://bucket/prefix`, `file:///path`, or when unset,
    the folder `settings.data_dir/artifacts`."""
    url = settings.artifact_url
    if url is None:
        return ArtifactStore(LocalBlobs(settings.data_dir / "artifacts"))
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return ArtifactStore(LocalBlobs(Path(unquote(parsed.path))))
    if parsed.scheme == "s3" and parsed.netloc:
        from .s3_blobs import S3Blobs

        return ArtifactStore(S3Blobs(parsed.netloc, parsed.path, endpoint_url=settings.s3_endpoint_url))
    raise StoreConfigError(f"LLMOPS_ARTIFACT_URL {url!r} is neither s3://bucket/prefix nor file:///path")
