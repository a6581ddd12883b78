"""Settings of the monitor, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmops_common.kafka.batch_consumer import BatchLimits
from llmops_common.settings import ServiceSettings

from .canary_analysis import CanaryPolicy
from .detector_settings import (
    CostSettings,
    DetectionSettings,
    DriftSettings,
    EmbeddingDriftSettings,
    LatencySettings,
    QualitySettings,
    WebhookSettings,
)


class Settings(ServiceSettings):
    """The monitor's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "monitor"

    sink_batch_rows: int = Field(default=1000, ge=1)
    """The sink inserts once this many records are buffered..."""
    sink_batch_seconds: float = Field(default=1.0, gt=0)
    """...or once the first buffered record has waited this long, whichever comes first."""
    sink_fetch_records: int = Field(default=2_000, ge=1)
    """The most records one poll of the sink returns (a flush takes all that are buffered). Small polls
    keep records short-lived, so the cycle collector frees them young: 20,000 measured slower."""

    sql_max_result_rows: int = Field(default=100_000, ge=1)
    """The most rows an ops query over the SQL endpoint may return (the query fails beyond)."""
    sql_max_execution_seconds: float = Field(default=10.0, gt=0)
    """How long an ops query may run (on a chdb connection of its own: the telemetry sink does not wait)."""
    sql_max_memory_bytes: int = Field(default=1 << 30, ge=1 << 20)
    """The memory an ops query may use."""
    sql_max_result_bytes: int = Field(default=256 << 20, ge=1 << 10)
    """The most bytes (uncompressed, in memory) an ops query's result may hold."""
    sql_max_rows_to_read: int = Field(default=1_000_000_000, ge=10_000)
    """The most rows an ops query may read from tables (clickhouse-connect reads about 2,000 at connect)."""
    sql_max_bytes_to_read: int = Field(default=64 << 30, ge=1 << 20)
    """The most bytes (uncompressed) an ops query may read from tables."""
    sql_max_threads: int = Field(default=2, ge=1)
    """The threads one ops query may use: chdb runs in the monitor's process, beside the sink and detectors."""
    sql_max_concurrent_queries: int = Field(default=4, ge=1)
    """Ops queries in progress (running, or streaming their output) at once; one more is answered 429."""

    # The detectors and alerts: each group is one variable holding JSON (see detector_settings.py).
    detection: DetectionSettings = DetectionSettings()
    drift: DriftSettings = DriftSettings()
    embedding_drift: EmbeddingDriftSettings = EmbeddingDriftSettings()
    quality: QualitySettings = QualitySettings()
    latency: LatencySettings = LatencySettings()
    cost: CostSettings = CostSettings()
    alert_webhook: WebhookSettings = WebhookSettings()

    # Canary analysis (canary_analysis.py): checks of each canary in progress, and what they decide.
    canary_check_seconds: float = Field(default=30.0, gt=0)
    """How often each canary in progress is checked."""
    canary_window_seconds: float = Field(default=900.0, gt=0)
    """A check reads the traffic since the canary started, or over the last this many seconds if shorter."""
    canary_min_requests: int = Field(default=50, ge=1)
    """A check with fewer requests on either arm is inconclusive: the canary holds, never promotes."""
    canary_min_feedback: int = Field(default=10, ge=1)
    """Thumbs-down rates are compared only when both arms have this many thumbs on their requests."""
    canary_max_error_rate_increase: float = Field(default=0.02, ge=0, le=1)
    """A check fails when the candidate's error rate is higher than stable's by more (absolute)."""
    canary_max_latency_ratio: float = Field(default=1.5, ge=1)
    """...or its p95 latency or p95 time to first token is more than stable's times this..."""
    canary_max_thumbs_down_increase: float = Field(default=0.1, ge=0, le=1)
    """...or its thumbs-down rate is higher than stable's by more (absolute)."""
    canary_passes_to_promote: int = Field(default=1, ge=1)
    """Consecutive passing checks that promote the candidate (1: the first check with enough traffic)."""
    canary_failures_to_roll_back: int = Field(default=2, ge=1)
    """Consecutive failing checks that roll back to the stable version."""

    def canary_policy(self) -> CanaryPolicy:
        """The minimum samples, margins and streaks canary checks are judged by."""
        return CanaryPolicy(
            min_requests=self.canary_min_requests,
            min_feedback=self.canary_min_feedback,
            max_error_rate_increase=self.canary_max_error_rate_increase,
            max_latency_ratio=self.canary_max_latency_ratio,
            max_thumbs_down_increase=self.canary_max_thumbs_down_increase,
            passes_to_promote=self.canary_passes_to_promote,
            failures_to_roll_back=self.canary_failures_to_roll_back,
        )

    def sink_limits(self) -> BatchLimits:
        """When the telemetry sink inserts, and how much one poll fetches."""
        return BatchLimits(self.sink_batch_rows, self.sink_batch_seconds, self.sink_fetch_records)
