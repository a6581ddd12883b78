"""Prometheus metrics of the Kafka layer, registered in the service's own registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class BusMetrics:
    """Counters of what consumers did with each event."""

    consumed: Counter
    retried: Counter
    dead_lettered: Counter
    duplicates: Counter
    handler_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> BusMetrics:
        """Registers the metrics in `registry`."""
        return cls(
            consumed=Counter("llmops_events_consumed", "Events handled", ["topic", "outcome"], registry=registry),
            retried=Counter("llmops_events_retried", "Handler retries", ["topic"], registry=registry),
            dead_lettered=Counter(
                "llmops_events_dead_lettered",
                "Events sent to a dead-letter topic",
                ["topic", "error_class"],
                registry=registry,
            ),
            duplicates=Counter("llmops_events_duplicate", "Redelivered events skipped", ["topic"], registry=registry),
            handler_seconds=Histogram(
                "llmops_event_handler_seconds",
                "Time spent in event handlers",
                ["topic"],
                registry=registry,
                buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            ),
        )

    def for_topic(self, topic: str) -> TopicMetrics:
        """The children a subscription updates on every event, looked up once rather than per event."""
        return TopicMetrics(
            handled=self.consumed.labels(topic, "ok"),
            duplicates=self.duplicates.labels(topic),
            retried=self.retried.labels(topic),
            handler_seconds=self.handler_seconds.labels(topic),
        )


@dataclass(frozen=True)
class TopicMetrics:
    """One topic's hot-path metric children."""

    handled: Counter
    duplicates: Counter
    retried: Counter
    handler_seconds: Histogram
