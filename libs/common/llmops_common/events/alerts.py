"""Alerts raised and resolved by the monitor's detectors."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .base import ClosedModel, Event, TenantId


class AlertScope(ClosedModel):
    """What an alert is about; a field left empty means every value of it."""

    tenant: TenantId | None = None
    model_name: str | None = None
    adapter_version: str | None = None


class TimeWindow(ClosedModel):
    """A half-open time range [start, end)."""

    start: AwareDatetime
    end: AwareDatetime


class _AlertEvent(Event):
    alert_id: str = Field(min_length=1, max_length=256, description="Stable per detector and scope.")
    detector: str
    scope: AlertScope
    value: float
    threshold: float
    current_window: TimeWindow
    reference_window: TimeWindow | None = None
    query_url: str | None = None
    at: AwareDatetime

    def event_key(self) -> str:
        return self.alert_id


class AlertFiredV1(_AlertEvent):
    """A detector found a metric past its threshold."""

    event_type = "llmops.alert.fired.v1"

    severity: Literal["info", "warning", "critical"]
    message: str
    enforce: bool = False


class AlertResolvedV1(_AlertEvent):
    """A metric that fired an alert is back within its threshold."""

    event_type = "llmops.alert.resolved.v1"
