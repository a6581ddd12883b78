"""Settings of the monitor, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmops_common.kafka.batch_consumer import BatchLimits
from llmops_common.settings import ServiceSettings

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
    """The most rows an ops query over `/clickhouse` may return (the query fails beyond)."""
    sql_max_execution_seconds: float = Field(default=10.0, gt=0)
    """How long an ops query may run; the telemetry sink waits for it meanwhile (chdb runs one at a time)."""
    sql_max_memory_bytes: int = Field(default=1 << 30, ge=1 << 20)
    """The memory an ops query may use."""

    # The detectors and alerts: each group is one variable holding JSON (see detector_settings.py).
    detection: DetectionSettings = DetectionSettings()
    drift: DriftSettings = DriftSettings()
    embedding_drift: EmbeddingDriftSettings = EmbeddingDriftSettings()
    quality: QualitySettings = QualitySettings()
    latency: LatencySettings = LatencySettings()
    cost: CostSettings = CostSettings()
    alert_webhook: WebhookSettings = WebhookSettings()

    def sink_limits(self) -> BatchLimits:
        """When the telemetry sink inserts, and how much one poll fetches."""
        return BatchLimits(self.sink_batch_rows, self.sink_batch_seconds, self.sink_fetch_records)
