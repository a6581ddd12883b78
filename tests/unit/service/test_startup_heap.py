"""Only a service's own process freezes its startup heap; apps built in tests leave it alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from llmops_common.service.startup_heap import freeze_heap_after_startup, freeze_startup_heap, wants_heap_frozen


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_an_app_freezes_its_heap_only_when_its_process_asks() -> None:
    app, served = FastAPI(), FastAPI()
    freeze_heap_after_startup(served)

    assert (wants_heap_frozen(app), wants_heap_frozen(served)) == (False, True)


@pytest.mark.usefixtures("unfrozen")
def test_freezing_moves_the_live_objects_out_of_the_collectors_generations() -> None:
    kept = [[n] for n in range(1000)]

    freeze_startup_heap()

    assert gc.get_freeze_count() >= len(kept)
