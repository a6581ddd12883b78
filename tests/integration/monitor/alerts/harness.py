"""What the alert tests share: traffic through the broker into chDB via the sink, and an `Alerting`
that publishes to the test's own topics, driven by a clock the test sets."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from faststream.kafka import KafkaBroker

from llmops_common.events import Event
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.settings import PlatformSettings
from llmops_common.storage.telemetry import TelemetryStore
from services.monitor.alert_tracker import AlertTracker
from services.monitor.alerting import Alerting
from services.monitor.detector_settings import DetectionSettings
from services.monitor.monitoring import build_detection_run
from services.monitor.settings import Settings
from services.monitor.telemetry_rows import TableRoute
from services.monitor.webhook import SlackWebhook
from tests.integration.monitor.conftest import topic_of
from tests.support.synthetic_traffic import publish_at
from tests.support.topic_reader import eventually_async

HOUR = timedelta(hours=1)


def hour_start(hours_ago: int) -> datetime:
    """The start of the hour `hours_ago` hours before this one: recent enough for the tables' TTLs."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - hours_ago * HOUR


@dataclass
class MonitorHarness:
    """The broker, the store and the test's topics."""

    settings: PlatformSettings
    broker: KafkaBroker
    store: TelemetryStore
    routes: dict[str, TableRoute]
    budgets_topic: str
    rng: random.Random

    async def send(self, table: str, items: Sequence[tuple[Event, datetime]]) -> None:
        """Publishes events at their times to the topic of `table` and waits until the sink stored them."""
        before = self.count(table)
        await publish_at(self.broker, topic_of(self.routes, table), items)

        async def stored() -> bool:
            return self.count(table) >= before + len(items)

        await eventually_async(stored, timeout=30)

    def count(self, table: str) -> int:
        return int(self.store.query(f"SELECT count() AS n FROM {table}")[0]["n"])  # noqa: S608 - test tables

    def topic_for(self, event: Event) -> str:
        """The test's topic for an event the monitor publishes."""
        if event.event_type.startswith("llmops.budget."):
            return self.budgets_topic
        return topic_of(self.routes, "alerts")

    def alerting(
        self, monitor: Settings, embedder: object | None = None, webhook: SlackWebhook | None = None
    ) -> Alerting:
        """The monitor's alerting over this store, publishing to the test's topics."""
        publisher = EventPublisher(self.broker, "monitor")

        async def publish(event: Event) -> None:
            await publisher.publish(event, topic=self.topic_for(event))

        run = build_detection_run(self.store, monitor, embedder)  # type: ignore[arg-type]
        return Alerting(
            run, AlertTracker(monitor.detection), publish, query_base_url="http://monitor.test", webhook=webhook
        )


def monitor_settings(settings: PlatformSettings, **groups: object) -> Settings:
    """The monitor's settings for a test: one-hour windows, alerts that fire at once and resolve after one run."""
    groups.setdefault(
        "detection", DetectionSettings(current_window_seconds=3600, reference_window_seconds=3600, resolve_after_runs=1)
    )
    return Settings(**settings.model_dump(), **groups)  # type: ignore[arg-type]
