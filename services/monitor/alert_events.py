"""The events an alert transition publishes: fired or resolved on `llmops.alerts`, and for an enforced
budget, exceeded or reset on `llmops.budgets`."""

from __future__ import annotations

from datetime import datetime

from llmops_common.events import AlertFiredV1, AlertResolvedV1, BudgetExceededV1, BudgetResetV1, Event
from llmops_common.events.alerts import AlertScope, TimeWindow

from .alert_tracker import Transition
from .measurements import Measurement, Window


def _window(window: Window | None) -> TimeWindow | None:
    return None if window is None else TimeWindow(start=window.start, end=window.end)


def _common(measurement: Measurement, now: datetime, query_url: str) -> dict[str, object]:
    assert measurement.limit is not None  # noqa: S101 - only judged measurements make transitions
    scope = measurement.scope
    return {
        "alert_id": measurement.alert_id,
        "detector": measurement.detector,
        "scope": AlertScope(tenant=scope.tenant, model_name=scope.model_name, adapter_version=scope.adapter_version),
        "value": measurement.value,
        "threshold": measurement.limit.threshold,
        "current_window": _window(measurement.current),
        "reference_window": _window(measurement.reference),
        "query_url": query_url,
        "at": now,
    }


def budget_id(measurement: Measurement) -> str:
    """`tenant/model/window`, model `*` for all of the tenant's models."""
    assert measurement.budget is not None  # noqa: S101 - for budget measurements only
    return f"{measurement.scope.tenant}/{measurement.scope.model_name or '*'}/{measurement.budget.budget.window}"


def transition_events(transition: Transition, now: datetime, query_url: str) -> list[Event]:
    """The alert event of `transition`, then the budget event when it is about an enforced budget."""
    measurement = transition.measurement
    budget = measurement.budget
    enforced = budget is not None and budget.budget.enforce
    common = _common(measurement, now, query_url)
    events: list[Event] = []
    if transition.kind == "resolved":
        events.append(AlertResolvedV1.model_validate(common))
    else:
        events.append(
            AlertFiredV1.model_validate(
                {**common, "severity": transition.severity, "message": measurement.message, "enforce": enforced}
            )
        )
    if budget is None or not enforced or transition.kind == "escalated":
        return events
    assert measurement.scope.tenant is not None  # noqa: S101 - a budget measurement names its tenant
    budget_fields = {
        "budget_id": budget_id(measurement),
        "tenant": measurement.scope.tenant,
        "model_name": measurement.scope.model_name,
        "window": budget.budget.window,
        "window_start": budget.window.start,
        "window_end": budget.window.end,
        "at": now,
    }
    if transition.kind == "resolved":
        events.append(BudgetResetV1.model_validate(budget_fields))
    else:
        events.append(
            BudgetExceededV1.model_validate(
                {
                    **budget_fields,
                    "spend_usd": measurement.value,
                    "budget_usd": budget.budget.limit_usd,
                    "alert_id": measurement.alert_id,
                }
            )
        )
    return events
