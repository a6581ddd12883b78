"""The alert rules: fire once per incident, escalate once, resolve with hysteresis, stay quiet in the cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.monitor.alert_tracker import AlertTracker
from services.monitor.detector_settings import Budget, DetectionSettings
from services.monitor.measurements import BudgetWindow, Limit, Measurement, Query, Scope, Window

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LIMIT = Limit(threshold=0.2, clear=0.1, critical=0.4)


def psi(value: float, limit: Limit = LIMIT, budget: BudgetWindow | None = None) -> Measurement:
    return Measurement(
        "drift",
        "psi_prompt_tokens",
        Scope(model_name="bot"),
        value,
        Window(T0 - timedelta(hours=1), T0),
        None,
        Query("SELECT 1"),
        "psi",
        limit,
        budget=budget,
    )


def run(tracker: AlertTracker, values: list[float], start: datetime = T0) -> list[str]:
    """The transitions a run per minute with these values makes, as `kind@minute`."""
    return [
        f"{transition.kind}@{minute}"
        for minute, value in enumerate(values)
        for transition in tracker.observe([psi(value)], start + minute * MINUTE)
    ]


def tracker(**settings: object) -> AlertTracker:
    return AlertTracker(DetectionSettings(**{"resolve_after_runs": 1, "cooldown_seconds": 0, **settings}))  # type: ignore[arg-type]


def test_a_breach_fires_once_however_long_it_lasts() -> None:
    assert run(tracker(), [0.05, 0.3, 0.3, 0.35, 0.3]) == ["fired@1"]


def test_a_value_between_clear_and_threshold_neither_fires_nor_resolves() -> None:
    assert run(tracker(), [0.15, 0.3, 0.15, 0.19, 0.15, 0.05]) == ["fired@1", "resolved@5"]


def test_resolving_takes_consecutive_clear_runs() -> None:
    assert run(tracker(resolve_after_runs=2), [0.3, 0.05, 0.3, 0.05, 0.05]) == ["fired@0", "resolved@4"]


def test_firing_can_take_consecutive_breaches() -> None:
    assert run(tracker(fire_after_runs=3), [0.3, 0.3, 0.05, 0.3, 0.3, 0.3]) == ["fired@5"]


def test_the_critical_level_escalates_an_open_alert_once() -> None:
    assert run(tracker(), [0.3, 0.5, 0.6, 0.3, 0.05]) == ["fired@0", "escalated@1", "resolved@4"]


def test_a_flapping_metric_stays_quiet_during_the_cooldown() -> None:
    flapping = [0.3, 0.05] * 7  # a breach every other minute for 14 minutes
    assert run(tracker(cooldown_seconds=600), flapping) == ["fired@0", "resolved@1", "fired@12", "resolved@13"]


def test_an_enforced_budget_skips_the_cooldown_and_fires_again_in_a_new_window() -> None:
    budget = Budget(tenant="acme", window="hour", limit_usd=1.0, enforce=True)
    limit = Limit(1.0, 1.0, critical=1.0)
    alerts = tracker(cooldown_seconds=3600)
    hour = Window(T0, T0 + timedelta(hours=1))
    next_hour = Window(hour.end, hour.end + timedelta(hours=1))
    observed = [
        (T0 + 10 * MINUTE, psi(2.0, limit, BudgetWindow(budget, hour))),
        (T0 + 20 * MINUTE, psi(2.5, limit, BudgetWindow(budget, hour))),
        (hour.end + MINUTE, psi(1.5, limit, BudgetWindow(budget, next_hour))),
        (hour.end + 2 * MINUTE, psi(1.5, limit, BudgetWindow(budget, next_hour))),
    ]
    kinds = [[t.kind for t in alerts.observe([m], at)] for at, m in observed]
    assert kinds == [["fired"], [], ["fired"], []]


def test_a_restored_open_alert_resolves_without_firing_again() -> None:
    alerts = tracker()
    alerts.restore("drift.psi_prompt_tokens/*/bot", firing=True, severity="warning", resolved_at=None)
    assert run(alerts, [0.3, 0.05]) == ["resolved@1"]
    assert alerts.open_alert_ids() == set()


def test_measurements_without_a_limit_or_not_significant_never_fire() -> None:
    alerts = tracker()
    unjudged = psi(9.0, limit=None)  # type: ignore[arg-type]
    insignificant = Measurement(**{**psi(9.0).__dict__, "significant": False})
    assert alerts.observe([unjudged, insignificant], T0) == []
