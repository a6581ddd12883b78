"""Artifact bytes in a local folder, written atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from llmops_common.errors import NotFoundError


def fsync_folder(folder: Path) -> None:
    """Flushes `folder`'s entries, so a rename into it survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A file to write that appears at `target` whole when the block ends, or never if it raises.

    It is written next to `target` (a rename within one file system is atomic), fsynced, then renamed.
    A crash leaves at most a stray `.tmp-*` file beside `target`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; artifacts are for every local reader
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


class LocalBlobs:
    """Blobs as files under `root`; a key is a relative path such as `sha256/ab/ab12...`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key

    def uri_of(self, key: str) -> str:
        """The `file://` URI of the blob at `key`."""
        return self._path(key).as_uri()

    def exists(self, key: str) -> bool:
        """Whether a blob lies at `key`."""
        return self._path(key).is_file()

    def write(self, key: str, source: BinaryIO) -> None:
        """Stores what `source` holds at `key`; readers see the old state or the whole new blob."""
        with atomic_file(self._path(key)) as out:
            shutil.copyfileobj(source, out, length=1 << 20)

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The blob at `key`, open for reading."""
        try:
            stream = self._path(key).open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"no artifact at {self.uri_of(key)}") from None
        with stream:
            yield stream

    def ping(self) -> bool:
        """Whether the root folder exists and this process may write to it."""
        return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)
