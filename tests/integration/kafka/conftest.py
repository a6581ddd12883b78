"""A started `Bus` per test, with topics of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from prometheus_client import CollectorRegistry

from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.settings import PlatformSettings

BusFactory = Callable[..., Bus]


@pytest.fixture
async def make_bus(settings: PlatformSettings, tmp_path: Path) -> AsyncIterator[BusFactory]:
    """Builds buses that the test registers subscribers on and starts; all are closed afterwards."""
    buses: list[Bus] = []

    def make(source: str = "test", state: str = "state", **overrides: object) -> Bus:
        bus = Bus.create(
            settings.model_copy(update=overrides),
            source=source,
            state_dir=tmp_path / state,
            registry=CollectorRegistry(),
        )
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


async def make_topics(settings: PlatformSettings, *names: str, partitions: int = 1) -> None:
    """Creates the test's own topics."""
    await create_topics(settings, [NewTopic(name, partitions, 1) for name in names])
