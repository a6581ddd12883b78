"""What every service process holds: its settings, its Kafka bus, its metrics and its readiness checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from ..kafka.admin import catalog_topics, create_topics
from ..kafka.bus import Bus
from ..settings import ServiceSettings
from .readiness import ReadinessChecks


@dataclass(frozen=True)
class ServiceRuntime:
    """The platform side of a service; its own `Deps` holds one next to its stores."""

    settings: ServiceSettings
    bus: Bus
    registry: CollectorRegistry
    readiness: ReadinessChecks = field(default_factory=ReadinessChecks)
    _before_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: ServiceSettings) -> ServiceRuntime:
        """Builds the bus in the service's own state folder, with metrics in a registry of its own."""
        registry = CollectorRegistry()
        bus = Bus.create(settings, source=settings.service_name, state_dir=settings.state_dir, registry=registry)
        runtime = cls(settings, bus, registry)
        runtime.readiness.add("kafka", bus.ping)
        return runtime

    async def ensure_topics(self) -> None:
        """Creates the catalog's missing topics, unless an operator owns topic creation."""
        if self.settings.kafka_create_topics:
            await create_topics(self.settings, catalog_topics(self.settings))

    async def start(self) -> None:
        """Starts the subscribers the service registered."""
        await self.bus.start()

    def before_close(self, publish_what_is_held: Callable[[], Awaitable[None]]) -> None:
        """Has `close` await this first, while the bus can still publish (a service's buffered events);
        the deps close only after the bus, so their own exit would be too late."""
        self._before_close.append(publish_what_is_held)

    async def close(self) -> None:
        """Publishes what the service still holds, stops consuming and flushes the producer."""
        for publish in reversed(self._before_close):
            await publish()
        await self.bus.close()
