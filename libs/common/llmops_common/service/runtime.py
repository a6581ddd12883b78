"""What every service process holds: its settings, its Kafka bus, its metrics and its readiness checks."""

from __future__ import annotations

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

    async def close(self) -> None:
        """Stops consuming and flushes what is still to be published."""
        await self.bus.close()
