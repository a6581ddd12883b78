"""What the platform's topics say, followed in the background: the demo waits on events as they come."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from ..events import Event
from ..kafka.topic_scan import TopicScan
from ..settings import PlatformSettings
from ..topics import TopicSpec

E = TypeVar("E", bound=Event)


class EventLog:
    """Every event the followed topics hold, from their beginning on, in arrival order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def add(self, events: Sequence[Event]) -> None:
        """Takes in newly read events and wakes whoever waits."""
        if events:
            self.events.extend(events)
            self._changed.set()

    def latest(self, kind: type[E], matches: Callable[[E], bool] = lambda _: True) -> E | None:
        """The last event of `kind` that `matches`, or None."""
        found = [event for event in self.events if isinstance(event, kind) and matches(event)]
        return found[-1] if found else None

    async def first(self, kind: type[E], matches: Callable[[E], bool], timeout: float) -> E:
        """The first event of `kind` that `matches`, waiting up to `timeout` seconds for it."""
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                for event in self.events:
                    if isinstance(event, kind) and matches(event):
                        return event
                await self._changed.wait()

    async def changed(self, timeout: float) -> None:
        """Returns when new events came, or after `timeout` seconds."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


@contextlib.asynccontextmanager
async def following(settings: PlatformSettings, topics: Sequence[TopicSpec]) -> AsyncIterator[EventLog]:
    """An `EventLog` of `topics`, kept current by a background task while the block lasts."""
    log = EventLog()
    async with TopicScan(settings, topics, require=True) as scan:

        async def follow() -> None:
            while True:
                log.add([logged.event for logged in await scan.poll()])

        task = asyncio.create_task(follow())
        try:
            yield log
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
