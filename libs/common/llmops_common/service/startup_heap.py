"""Keeps what a service builds at startup out of the cycle collector's way for the rest of its life."""

from __future__ import annotations

import gc

from fastapi import FastAPI

_FREEZE_FLAG = "freeze_heap_after_startup"


def freeze_startup_heap() -> None:
    """Moves every object alive now (modules, models, the app) out of the cycle collector's sight.

    They live as long as the process, yet each full collection rescans them, at about 0.5 µs an object
    here: the monitor's sink ran 5 to 10 full collections per 100,000 events. Frozen objects are still
    freed by reference counting. Garbage is collected first, so nothing unreachable is frozen. Call it
    once per process, when startup is over.
    """
    gc.collect()
    gc.freeze()


def freeze_heap_after_startup(app: FastAPI) -> None:
    """Has the app's lifespan call `freeze_startup_heap` once startup is over; for a service's process.

    Tests that start many apps in one process leave it off: each freeze would pin their leftovers.
    """
    setattr(app.state, _FREEZE_FLAG, True)


def wants_heap_frozen(app: FastAPI) -> bool:
    """Whether `freeze_heap_after_startup` was called for `app`."""
    return bool(getattr(app.state, _FREEZE_FLAG, False))
