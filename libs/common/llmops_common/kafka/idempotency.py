"""Remembers which event ids a consumer group has handled, so a redelivered event has no second effect."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from ..errors import StateDirInUseError
from .handled_ids import Clock, HandledIds
from .mark_journal import SEGMENT_BYTES

DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600


class IdempotencyStore:
    """Handled event ids per consumer group, in a folder this process owns.

    Each group keeps its ids in a set in memory, so a lookup costs a set membership test, and in
    memory-mapped segment files, so a mark is durable against a process crash as soon as `mark`
    returns, with no system call (see `HandledIds`). A group's ids are read back from its files the
    first time the group is used. A crash can therefore replay only the one event whose handler had
    finished but whose mark was not yet written, and never skips an event that was not handled.
    Ids are kept for at least `retention_seconds`; memory grows with the ids in that window. Opening
    the store locks the folder: each service instance owns its state directory.
    """

    def __init__(
        self,
        folder: Path | str,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        *,
        clock: Clock = time.time,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self._folder = Path(folder)
        self._folder.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_exclusively(self._folder / ".lock")
        self._retention, self._clock, self._segment_bytes = retention_seconds, clock, segment_bytes
        self._groups: dict[str, HandledIds] = {}

    def group(self, group_id: str) -> HandledIds:
        """The handled ids of one consumer group, read from its files on first use."""
        handled = self._groups.get(group_id)
        if handled is None:
            handled = HandledIds(
                self._folder / _folder_name(group_id), self._retention, self._clock, self._segment_bytes
            )
            self._groups[group_id] = handled
        return handled

    def handled_among(self, group_id: str, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` that this group already handled."""
        return self.group(group_id).handled_among(event_ids)

    def mark(self, group_id: str, event_id: str) -> None:
        """Records the event as handled; durable against a process crash when this returns."""
        self.group(group_id).mark(event_id)

    def close(self) -> None:
        """Unmaps every group's files and releases the lock."""
        for handled in self._groups.values():
            handled.close()
        self._groups.clear()
        os.close(self._lock)


def _folder_name(group_id: str) -> str:
    """A file-system-safe folder name for a group: readable, and distinct for distinct groups."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", group_id)[:80]
    return f"{readable}-{hashlib.blake2b(group_id.encode(), digest_size=6).hexdigest()}"


def _lock_exclusively(path: Path) -> int:
    """Holds an exclusive lock on `path` for the life of the process, or says who holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        os.close(fd)
        raise StateDirInUseError(f"another process uses the idempotency store {path.parent}") from error
    return fd
