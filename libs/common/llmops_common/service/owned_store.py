"""A store a service owns: checked by `/readyz` while the service runs, closed when it stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from .runtime import ServiceRuntime


class Closable(Protocol):
    """Anything with a `close()`: a telemetry store, a Qdrant client."""

    def close(self) -> None:
        """Releases the store."""


S = TypeVar("S", bound=Closable)


@contextmanager
def owned_store(runtime: ServiceRuntime, name: str, store: S, ready: Callable[[], bool]) -> Iterator[S]:
    """Registers `ready` as the readiness check `name`, and closes `store` when the block ends."""
    runtime.readiness.add(name, ready)
    try:
        yield store
    finally:
        store.close()
