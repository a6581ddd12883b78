"""Remembers which event ids a consumer group has handled, so a redelivered event has no second effect."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import StateDirInUseError
from .handled_index import HandledIndex
from .mark_journal import MarkJournal

DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600
INDEX_EVERY = 10_000
"""Marks moved from the journal into the SQLite index at a time."""


class IdempotencyStore:
    """Handled event ids per consumer group: a journal for each mark, and a SQLite index for lookups.

    A mark is one append to a memory-mapped journal (`MarkJournal`), so it outlives a crash of the
    process as soon as `mark` returns. Writing SQLite per event would cost more than the rest of a consumer's
    work, so marks move into the index (`HandledIndex`) ten thousand at a time, in one transaction.
    A lookup takes a whole batch in one query, and also checks the marks not yet indexed. Opening
    the store indexes what a crashed process left in the journal, and locks the files: each service
    instance owns its state directory. So a crash can replay only the one event whose handler had
    finished but whose mark was not yet written, and it never skips an event that was not handled.
    """

    def __init__(
        self, path: Path | str, retention_seconds: int = DEFAULT_RETENTION_SECONDS, index_every: int = INDEX_EVERY
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._index_every = index_every
        self._lock = _lock_exclusively(path.with_name(path.name + ".lock"))
        self._index = HandledIndex(path, retention_seconds)
        self._journal = MarkJournal(path.with_name(path.name + ".journal"))
        self._index.add(self._journal.marks())
        self._journal.clear()
        self._unindexed: dict[tuple[str, str], float] = {}

    def handled_among(self, group_id: str, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` that this group already handled; one query for a whole batch."""
        unindexed = {event_id for event_id in event_ids if (group_id, event_id) in self._unindexed}
        return unindexed | self._index.find(group_id, [e for e in event_ids if e not in unindexed])

    def mark(self, group_id: str, event_id: str) -> None:
        """Records the event as handled; durable against a process crash when this returns."""
        handled_at = time.time()
        self._unindexed[(group_id, event_id)] = handled_at
        if not self._journal.append(group_id, event_id, handled_at) or len(self._unindexed) >= self._index_every:
            self.flush()  # also makes durable a mark for which the journal had no room

    def flush(self) -> None:
        """Moves the journalled marks into the index and empties the journal."""
        self._index.add([(group_id, event_id, at) for (group_id, event_id), at in self._unindexed.items()])
        self._unindexed.clear()
        self._journal.clear()

    def close(self) -> None:
        """Indexes every mark, then closes the journal, the index and the lock."""
        self.flush()
        self._journal.close()
        self._index.close()
        os.close(self._lock)


def _lock_exclusively(path: Path) -> int:
    """Holds an exclusive lock on `path` for the life of the process, or says who holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        os.close(fd)
        raise StateDirInUseError(f"another process uses the idempotency store {path.with_suffix('')}") from error
    return fd
