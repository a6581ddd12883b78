"""Which adapters running requests use, so that an unload waits for them and refuses new ones meanwhile."""

from __future__ import annotations

import asyncio
from collections import Counter

from .errors import UnknownAdapterError


class AdapterUsage:
    """Request counts per adapter name, and the names being unloaded."""

    def __init__(self) -> None:
        self._users: Counter[str] = Counter()
        self._retiring: set[str] = set()
        self._idle = asyncio.Condition()

    def check_open(self, name: str) -> None:
        """Raises `UnknownAdapterError` while `name` is being unloaded."""
        if name in self._retiring:
            raise UnknownAdapterError(f"adapter {name} is being unloaded")

    def acquire(self, name: str) -> None:
        """A request starts on `name`."""
        self.check_open(name)
        self._users[name] += 1

    async def release(self, name: str) -> None:
        """A request on `name` has ended."""
        self._users[name] -= 1
        async with self._idle:
            self._idle.notify_all()

    def reopen(self, name: str) -> None:
        """`name` was loaded (again): requests may use it."""
        self._retiring.discard(name)

    async def retire(self, name: str) -> bool:
        """Refuses new requests on `name` and waits until none runs on it; False when it was loaded again
        meanwhile and must stay."""
        self._retiring.add(name)
        async with self._idle:
            await self._idle.wait_for(lambda: self._users[name] == 0)
        still = name in self._retiring
        self._retiring.discard(name)
        return still
