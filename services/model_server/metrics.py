"""The model server's Prometheus metrics, in the service's own registry (served at `/metrics`)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from llmops_common.events import InferenceCompletedV1

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServerMetrics:
    """Requests, latency, time to first token, tokens, queue depth, and spilled and dropped telemetry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "llmops_inference_requests",
            "Inference requests by model and outcome",
            ["model", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "llmops_inference_latency_seconds",
            "Request latency",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.time_to_first_token = Histogram(
            "llmops_inference_time_to_first_token_seconds",
            "Time to the first generated token",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "llmops_inference_tokens", "Tokens by model and kind", ["model", "kind"], registry=registry
        )
        # A request counts once per prompt and choice: that is what the engine batches.
        self.queue_depth = Gauge(
            "llmops_inference_queue_depth", "Sequences (prompts times n) waiting for a slot", registry=registry
        )
        self.running = Gauge(
            "llmops_inference_running", "Sequences (prompts times n) generating now", registry=registry
        )
        self.telemetry_dropped = Counter(
            "llmops_telemetry_dropped",
            "Telemetry events lost: the spill folder was full or its disk failed",
            registry=registry,
        )
        self.telemetry_spilled = Counter(
            "llmops_telemetry_spilled",
            "Telemetry events written to disk while the broker was away or the buffer full, to be sent later",
            registry=registry,
        )
        self.telemetry_spill_backlog = Gauge(
            "llmops_telemetry_spill_backlog", "Telemetry events on disk waiting to be sent", registry=registry
        )
        self.telemetry_published = Counter(
            "llmops_telemetry_published", "Telemetry events published", registry=registry
        )
        self.telemetry_buffered = Gauge("llmops_telemetry_buffered", "Telemetry events waiting", registry=registry)

    def observe(self, event: InferenceCompletedV1, *, routed: bool) -> None:
        """Counts one ended request; an unrouted one (unknown model, bad body) under `unknown`."""
        model = event.model_name if routed else "unknown"
        self.requests.labels(model, event.status).inc()
        self.latency.labels(model).observe(event.latency_ms / 1000)
        if not routed:
            return
        if event.time_to_first_token_ms is not None:
            self.time_to_first_token.labels(model).observe(event.time_to_first_token_ms / 1000)
        self.tokens.labels(model, "prompt").inc(event.prompt_tokens)
        self.tokens.labels(model, "completion").inc(event.completion_tokens)

    def watch_queue(self, queued: Callable[[], int], running: Callable[[], int]) -> None:
        """Reads the queued and running sequences at scrape time."""
        self.queue_depth.set_function(lambda: float(queued()))
        self.running.set_function(lambda: float(running()))
