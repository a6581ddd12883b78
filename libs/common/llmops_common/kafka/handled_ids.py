"""One consumer group's handled event ids: a set in memory, rebuilt at start from segment files."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .mark_journal import MAX_ID_BYTES, SEGMENT_BYTES, MarkSegment

SEGMENTS_PER_WINDOW = 7
"""A segment takes marks for a seventh of the window (a day, by default), so expiry frees the window in sevenths."""
MAX_ID_CHARS = MAX_ID_BYTES // 4
"""Longer ids are kept as their digest: four UTF-8 bytes per character at most fit a segment record."""
SUFFIX = ".ids"

Clock = Callable[[], float]


class HandledIds:
    """The ids one group handled within the window, for lookups at the cost of a set membership test.

    Marks go to the newest segment file (`MarkSegment`), named after the time it was opened. A new
    segment opens when the newest is full, or holds ids and is a seventh of the window old. A
    segment is deleted, and its ids forgotten, once the segment after it opened more than a window
    ago: all of its ids are older than the window then. So ids are kept for at least the window,
    and at most a seventh more. Both are checked once per batch, with one reading of the clock.
    """

    def __init__(
        self, folder: Path, window_seconds: float, clock: Clock = time.time, segment_bytes: int = SEGMENT_BYTES
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder, self._window, self._clock, self._segment_bytes = folder, window_seconds, clock, segment_bytes
        self._span = window_seconds / SEGMENTS_PER_WINDOW
        now = clock()
        paths = sorted(folder.glob(f"*{SUFFIX}"), key=_opened_ns)
        self._sealed = paths[:-1]
        newest = paths[-1] if paths else self._new_path(now)
        self._segment_opened = _opened_at(newest)
        self._ids: set[str] = set()
        self._expire(now)
        for path in self._sealed:
            sealed = MarkSegment(path, segment_bytes)
            self._ids.update(sealed.ids())
            sealed.close()
        self._segment = MarkSegment(newest, segment_bytes)
        self._ids.update(self._segment.ids())

    def handled_among(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` handled before; also opens a new segment or expires old ones when due."""
        now = self._clock()
        if now - self._segment_opened >= self._span and not self._segment.is_empty:
            self._rotate()
        elif self._sealed:
            self._expire(now)
        handled = self._ids
        return {event_id for event_id in event_ids if _key(event_id) in handled}

    def mark(self, event_id: str) -> None:
        """Records the event as handled; durable against a process crash when this returns."""
        key = _key(event_id)
        if not self._segment.append(key):
            self._rotate()
            self._segment.append(key)
        self._ids.add(key)

    def close(self) -> None:
        """Unmaps the newest segment."""
        self._segment.close()

    def _rotate(self) -> None:
        now = self._clock()
        self._segment.close()
        self._sealed.append(self._segment.path)
        path = self._new_path(now)
        self._segment, self._segment_opened = MarkSegment(path, self._segment_bytes), _opened_at(path)
        self._expire(now)

    def _expire(self, now: float) -> None:
        """Deletes the sealed segments whose successor opened before the window, and forgets their ids."""
        horizon = now - self._window
        while self._sealed:
            successor_opened = _opened_at(self._sealed[1]) if len(self._sealed) > 1 else self._segment_opened
            if successor_opened >= horizon:
                return
            expired = self._sealed.pop(0)
            if self._ids:
                segment = MarkSegment(expired, self._segment_bytes)
                self._ids.difference_update(segment.ids())
                segment.close()
            expired.unlink()

    def _new_path(self, now: float) -> Path:
        opened_ns = max(int(now * 1e9), *(_opened_ns(path) + 1 for path in self._sealed), 0)
        return self._folder / f"{opened_ns:020d}{SUFFIX}"


def _key(event_id: str) -> str:
    """The id as kept: itself, or a digest when it is too long for a segment record."""
    if len(event_id) <= MAX_ID_CHARS:
        return event_id
    return "blake2b:" + hashlib.blake2b(event_id.encode()).hexdigest()


def _opened_ns(path: Path) -> int:
    return int(path.name.removesuffix(SUFFIX))


def _opened_at(path: Path) -> float:
    return _opened_ns(path) / 1e9
