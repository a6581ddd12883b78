"""A memory-mapped segment of handled event ids: durable against a process crash, without a system call."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

SEGMENT_BYTES = 4 * 1024 * 1024
"""Room for some 100,000 UUID event ids per segment file."""
LENGTH_BYTES = 2
MAX_ID_BYTES = 2 ** (8 * LENGTH_BYTES) - 1


class MarkSegment:
    """Event ids as length-prefixed UTF-8 records in a fixed-size file mapped into memory.

    An append copies the id into the shared mapping, then its length in front of it. The kernel's
    page cache holds both from then on, so a killed process loses nothing, and no `write` call is
    paid per event. A process killed between the two copies leaves a zero length, which ends the
    segment, so that id reads as not handled and is at worst handled again, as at-least-once
    delivery allows (as are the last ids of a power loss). The unused rest of the file is zero bytes.
    """

    def __init__(self, path: Path, size: int = SEGMENT_BYTES) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.posix_fallocate(fd, 0, size)  # reserved now: a full disk cannot fail a write to the mapping
            self._map = mmap.mmap(fd, 0)
        finally:
            os.close(fd)  # the mapping keeps the file open
        self._end = _scan(self._map)[1]

    @property
    def is_empty(self) -> bool:
        """Whether no id has been appended yet."""
        return self._end == 0

    def ids(self) -> list[str]:
        """Every id in the segment, in the order they were appended."""
        return _scan(self._map)[0]

    def append(self, event_id: str) -> bool:
        """Writes one id (at most `MAX_ID_BYTES` in UTF-8); False, writing nothing, when the segment is full."""
        data = event_id.encode()
        start = self._end + LENGTH_BYTES
        end = start + len(data)
        if end > len(self._map):
            return False
        self._map[start:end] = data
        self._map[self._end : start] = len(data).to_bytes(LENGTH_BYTES, "little")  # last: it commits the record
        self._end = end
        return True

    def close(self) -> None:
        """Unmaps the file."""
        self._map.close()


def _scan(segment: mmap.mmap) -> tuple[list[str], int]:
    """The complete records of a segment, and where the next one goes."""
    ids: list[str] = []
    position, size = 0, len(segment)
    while position + LENGTH_BYTES <= size:
        length = int.from_bytes(segment[position : position + LENGTH_BYTES], "little")
        end = position + LENGTH_BYTES + length
        if length == 0 or end > size:
            break
        ids.append(segment[position + LENGTH_BYTES : end].decode(errors="replace"))
        position = end
    return ids, position
