"""Turns a stream of measurements into alert transitions, one incident at a time.

Per alert id: it fires after `fire_after_runs` consecutive breaches, never again while it is open (a
rise to the critical level escalates it once), and resolves after `resolve_after_runs` consecutive runs
back past the clear level (hysteresis: between the clear level and the threshold nothing changes). After
it resolves, the same alert stays silent for the cooldown, so a flapping metric cannot become a storm.
An enforced budget skips the cooldown (a tenant over budget must be blocked at once), and a budget alert
that is open from an earlier window fires again for a new window it breaches, as the block of the old
window has ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .detector_settings import DetectionSettings
from .measurements import Measurement

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Transition:
    """An alert fired (or escalated, or fired for a new budget window) or resolved."""

    kind: Literal["fired", "escalated", "resolved"]
    measurement: Measurement
    severity: Severity


@dataclass
class _AlertState:
    firing: bool = False
    severity: Severity = "warning"
    breaches: int = 0
    clears: int = 0
    resolved_at: datetime | None = None
    budget_window_start: datetime | None = None


class AlertTracker:
    """The open alerts and the counters behind them; pure, so the rules are tested without I/O."""

    def __init__(self, settings: DetectionSettings) -> None:
        self._cooldown = timedelta(seconds=settings.cooldown_seconds)
        self._fire_after = settings.fire_after_runs
        self._resolve_after = settings.resolve_after_runs
        self._states: dict[str, _AlertState] = {}

    def restore(self, alert_id: str, *, firing: bool, severity: Severity, resolved_at: datetime | None) -> None:
        """Takes an alert's state from the alert history, so a restarted monitor neither repeats nor loses it."""
        self._states[alert_id] = _AlertState(firing=firing, severity=severity, resolved_at=resolved_at)

    def open_alert_ids(self) -> set[str]:
        """The alerts firing now."""
        return {alert_id for alert_id, state in self._states.items() if state.firing}

    def observe(self, measurements: Iterable[Measurement], now: datetime) -> list[Transition]:
        """The transitions this run's measurements cause, in their order."""
        transitions = []
        for measurement in measurements:
            if measurement.limit is None:
                continue
            state = self._states.setdefault(measurement.alert_id, _AlertState())
            transition = self._step(state, measurement, now)
            if transition is not None:
                transitions.append(transition)
        return transitions

    def _step(self, state: _AlertState, measurement: Measurement, now: datetime) -> Transition | None:
        assert measurement.limit is not None  # noqa: S101 - observe() skips the others
        severity = measurement.limit.severity(measurement.value)
        if measurement.breached:
            state.breaches, state.clears = state.breaches + 1, 0
            if not state.firing:
                if state.breaches < self._fire_after or self._cooling_down(state, measurement, now):
                    return None
                return self._fire(state, measurement, severity, "fired")
            if self._new_budget_window(state, measurement):
                return self._fire(state, measurement, severity, "fired")
            if severity == "critical" and state.severity == "warning":
                return self._fire(state, measurement, severity, "escalated")
            return None
        state.breaches = 0
        if not measurement.cleared or not state.firing:
            state.clears = 0
            return None
        state.clears += 1
        if state.clears < self._resolve_after:
            return None
        state.firing, state.clears, state.resolved_at = False, 0, now
        return Transition("resolved", measurement, state.severity)

    def _fire(self, state: _AlertState, measurement: Measurement, severity: Severity, kind: str) -> Transition:
        state.firing, state.severity = True, severity
        if measurement.budget is not None:
            state.budget_window_start = measurement.budget.window.start
        return Transition("escalated" if kind == "escalated" else "fired", measurement, severity)

    def _cooling_down(self, state: _AlertState, measurement: Measurement, now: datetime) -> bool:
        if measurement.budget is not None and measurement.budget.budget.enforce:
            return False
        return state.resolved_at is not None and now - state.resolved_at < self._cooldown

    @staticmethod
    def _new_budget_window(state: _AlertState, measurement: Measurement) -> bool:
        return (
            measurement.budget is not None
            and state.budget_window_start is not None
            and measurement.budget.window.start != state.budget_window_start
        )
