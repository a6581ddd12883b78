"""The Kafka layer wired together for one process: broker, publisher, consumer and idempotency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from ..settings import PlatformSettings
from .broker import build_broker
from .consumer import EventConsumer
from .idempotency import IdempotencyStore
from .metrics import BusMetrics
from .publisher import EventPublisher
from .retry_policy import RetryPolicy


@dataclass(frozen=True)
class Bus:
    """What a process needs to speak Kafka; register subscribers, then `start`."""

    broker: KafkaBroker
    publisher: EventPublisher
    consumer: EventConsumer
    idempotency: IdempotencyStore

    @classmethod
    def create(cls, settings: PlatformSettings, *, source: str, state_dir: Path, registry: CollectorRegistry) -> Bus:
        """Builds the layer; `state_dir` holds the idempotency records and must be this process's own."""
        broker = build_broker(settings, client_id=source)
        idempotency = IdempotencyStore(state_dir / "handled_events")
        consumer = EventConsumer(
            broker,
            idempotency=idempotency,
            metrics=BusMetrics.create(registry),
            retry=RetryPolicy(
                max_attempts=settings.handler_max_attempts,
                backoff_seconds=settings.handler_backoff_seconds,
                transient_max_seconds=settings.handler_retry_max_seconds,
                max_backoff_seconds=settings.handler_backoff_max_seconds,
            ),
            batch_size=settings.consumer_batch_size,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            low_latency_fetch_wait_ms=settings.kafka_request_fetch_wait_ms,
        )
        publisher = EventPublisher(broker, source, timeout=settings.kafka_publish_timeout_seconds)
        return cls(broker, publisher, consumer, idempotency)

    async def start(self) -> None:
        """Connects to Kafka and starts every registered subscriber."""
        await self.broker.start()

    async def close(self) -> None:
        """Stops the subscribers, flushes the producer and closes the idempotency store."""
        await self.broker.stop()
        self.idempotency.close()

    async def ping(self, timeout: float = 2.0) -> bool:
        """Whether the broker answers."""
        return bool(await self.broker.ping(timeout))
