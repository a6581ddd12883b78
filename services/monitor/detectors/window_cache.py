"""A small cache of what a detector computed over a closed window: a reference anchored at a promotion
stays the same run after run, so it is read (or embedded) once, not every minute."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class WindowCache(Generic[T]):
    """The last `size` values by key, least recently used out first."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, T] = OrderedDict()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value of `key`, computed and kept on a miss."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = compute()
        self._values[key] = value
        if len(self._values) > self._size:
            self._values.popitem(last=False)
        return value
