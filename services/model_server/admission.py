"""A bounded queue in front of the engine: so many sequences run, so many wait, the rest get 503.

A request takes one slot per sequence it generates (each prompt times `n`): the engine's load is
sequences, and a request of 8 prompts with `n` 8 must not pass for one. Waiting requests are served
first in, first out, so a large one is not starved by small ones that keep slipping past it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from .errors import BadRequestError, OverloadedError


class Admission:
    """Hands out running slots; `queued` and `running` (slots) feed the queue-depth metrics."""

    def __init__(self, max_running: int, max_queued: int) -> None:
        self.capacity = max_running
        self._max_queued = max_queued
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()
        self.queued = 0
        self.running = 0

    async def enter(self, slots: int = 1) -> float:
        """Takes `slots` running slots, waiting in the queue if need be; returns the seconds waited.

        Raises `BadRequestError` when the request could never run (more slots than the server has), and
        `OverloadedError` at once when the queue has no room for it. Every `enter` needs one `leave`.
        """
        if slots > self.capacity:
            raise BadRequestError(
                f"the request generates {slots} sequences (prompts times n); this server runs at most {self.capacity}"
                " at once"
            )
        if not self._waiting and self.running + slots <= self.capacity:
            self.running += slots
            return 0.0
        if self.queued + slots > self._max_queued:
            raise OverloadedError("the server is at capacity; retry shortly")
        started = time.perf_counter()
        entry = (slots, asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        self.queued += slots
        try:
            await entry[1]
        except BaseException:
            if entry[1].done() and not entry[1].cancelled():
                self.leave(slots)  # granted, but the caller went away before it could run
            else:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                self.queued -= slots
                self._admit_waiting()  # those behind it may fit now
            raise
        return time.perf_counter() - started

    def leave(self, slots: int = 1) -> None:
        """Gives the slots back, and admits those waiting that now fit, in order."""
        self.running -= slots
        self._admit_waiting()

    def _admit_waiting(self) -> None:
        while self._waiting:
            slots, granted = self._waiting[0]
            if granted.done():  # cancelled while waiting: its caller takes itself out of the count
                self._waiting.popleft()
                continue
            if self.running + slots > self.capacity:
                return
            self._waiting.popleft()
            self.queued -= slots
            self.running += slots
            granted.set_result(None)
