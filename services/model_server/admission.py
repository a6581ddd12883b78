"""A bounded queue in front of the engine: so many requests run, so many wait, the rest get 503."""

from __future__ import annotations

import asyncio
import time

from .errors import OverloadedError


class Admission:
    """Hands out running slots; `queued` and `running` feed the queue-depth metrics."""

    def __init__(self, max_running: int, max_queued: int) -> None:
        self._slots = asyncio.Semaphore(max_running)
        self._max_queued = max_queued
        self.queued = 0
        self.running = 0

    async def enter(self) -> float:
        """Takes a running slot, waiting in the queue if need be; returns the seconds waited.

        Raises `OverloadedError` at once when the queue is full. Every `enter` needs one `leave`.
        """
        started = time.perf_counter()
        if self._slots.locked():
            if self.queued >= self._max_queued:
                raise OverloadedError("the server is at capacity; retry shortly")
            self.queued += 1
            try:
                await self._slots.acquire()
            finally:
                self.queued -= 1
        else:
            await self._slots.acquire()
        self.running += 1
        return time.perf_counter() - started

    def leave(self) -> None:
        """Gives the slot back."""
        self.running -= 1
        self._slots.release()
