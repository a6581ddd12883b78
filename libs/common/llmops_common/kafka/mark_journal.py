"""A memory-mapped log of idempotency marks: durable against a process crash, without a system call."""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

Mark = tuple[str, str, float]
"""A consumer group, an event id, and when the event was handled."""

JOURNAL_BYTES = 4 * 1024 * 1024
"""Room for some 40,000 marks between two moves into the index."""


class MarkJournal:
    """Marks not yet in the SQLite index, as lines in a fixed-size file mapped into memory.

    An append copies one line into the shared mapping. The kernel's page cache holds it from then
    on, so a killed process loses nothing, and no `write` call is paid per event. (A power loss can
    lose the last lines; those events are then handled again, as at-least-once delivery allows.)
    The unused rest of the file is zero bytes, which is how a reader finds the end.
    """

    def __init__(self, path: Path, size: int = JOURNAL_BYTES) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)  # the mapping keeps the file open
        self._end = self._map.find(b"\0")
        if self._end < 0:
            self._end = size

    def append(self, group_id: str, event_id: str, handled_at: float) -> bool:
        """Writes one mark; False, writing nothing, when the journal is full."""
        line = f"{group_id}\t{event_id}\t{handled_at}\n".encode()
        end = self._end + len(line)
        if end > len(self._map):
            return False
        self._map[self._end : end] = line
        self._end = end
        return True

    def marks(self) -> list[Mark]:
        """The complete marks in the journal; a line torn by a power loss is skipped."""
        return list(_parse(self._map[: self._end].decode(errors="replace")))

    def clear(self) -> None:
        """Empties the journal, once its marks are in the index."""
        self._map[: self._end] = bytes(self._end)
        self._end = 0

    def close(self) -> None:
        """Unmaps the file."""
        self._map.close()


def _parse(journal: str) -> Iterator[Mark]:
    for line in journal.splitlines():
        fields = line.split("\t")
        if len(fields) == 3:
            try:
                yield fields[0], fields[1], float(fields[2])
            except ValueError:
                continue
