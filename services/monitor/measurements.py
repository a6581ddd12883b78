"""What a detector measured: a value in a scope over windows, judged against a limit with hysteresis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .detector_settings import Budget


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Its length."""
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Scope:
    """What a figure is about; None means every value."""

    tenant: str | None = None
    model_name: str | None = None
    adapter_version: str | None = None


@dataclass(frozen=True)
class Limit:
    """A threshold, the level a breach must come back past to clear, and the direction that is bad."""

    threshold: float
    clear: float
    higher_is_worse: bool = True
    critical: float | None = None

    def breached(self, value: float) -> bool:
        """Past the threshold."""
        return value > self.threshold if self.higher_is_worse else value < self.threshold

    def cleared(self, value: float) -> bool:
        """Back past the clear level."""
        return value <= self.clear if self.higher_is_worse else value >= self.clear

    def severity(self, value: float) -> Literal["warning", "critical"]:
        """Critical past the critical level, else warning."""
        if self.critical is None:
            return "warning"
        past = value >= self.critical if self.higher_is_worse else value <= self.critical
        return "critical" if past else "warning"


@dataclass(frozen=True)
class Query:
    """The SQL behind a figure and its parameters, so an alert can link to it."""

    sql: str
    parameters: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetWindow:
    """The calendar window of a budget a figure was measured in: what an enforced budget blocks until."""

    budget: Budget
    window: Window


@dataclass(frozen=True)
class Measurement:
    """One figure of one detector run. Without a limit it is only recorded (a p-value beside its test).

    `significant` gates the limit: a KS gap fires only when its p-value is also small.
    """

    detector: str
    metric: str
    scope: Scope
    value: float
    current: Window
    reference: Window | None
    query: Query
    message: str
    limit: Limit | None = None
    significant: bool = True
    budget: BudgetWindow | None = None

    @property
    def alert_id(self) -> str:
        """Stable per detector, metric, tenant and model. The adapter version is left out on purpose: a
        promotion changes it, and an alert must still resolve under the id it fired with."""
        tenant = self.scope.tenant or "*"
        model = self.scope.model_name or "*"
        return f"{self.detector}.{self.metric}/{tenant}/{model}"

    @property
    def breached(self) -> bool:
        """Past its threshold, and significant."""
        return self.limit is not None and self.significant and self.limit.breached(self.value)

    @property
    def cleared(self) -> bool:
        """Back past its clear level, or no longer significant."""
        return self.limit is None or not self.significant or self.limit.cleared(self.value)
