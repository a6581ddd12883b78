"""Cost: spend per tenant and per model against budgets (hour, day, month), spend-rate spikes against
the trailing average, and the projected month-end spend against the monthly budget.

Read from the per-minute rollup. Every (tenant, model) that spent this month is measured against each
budget that covers it, at zero when it spent nothing in the window: a blocked tenant spends nothing, and
its budget alert must still resolve when the window turns.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from llmops_common.storage.telemetry import TelemetryStore

from ..detector_settings import Budget, CostSettings
from ..measurements import BudgetWindow, Limit, Measurement, Query, Scope, Window
from .calendar_windows import calendar_window

SPEND_SQL = """
SELECT tenant, model_name, sum(cost_usd) AS spend
FROM inference_minute
WHERE minute >= {start:DateTime} AND minute <= {end:DateTime}
GROUP BY tenant, model_name
"""

RATE_SQL = """
SELECT tenant, model_name,
    sumIf(cost_usd, minute >= {recent_start:DateTime}) AS recent,
    sumIf(cost_usd, minute < {recent_start:DateTime}) AS trailing
FROM inference_minute
WHERE minute >= {trailing_start:DateTime} AND minute <= {end:DateTime}
GROUP BY tenant, model_name
"""

Spend = dict[tuple[str, str], float]
"""Spend by (tenant, model)."""


class CostDetector:
    """Budgets, spikes and projections over every tenant and model."""

    name = "cost"

    def __init__(self, settings: CostSettings) -> None:
        self._settings = settings

    def measure(self, store: TelemetryStore, now: datetime) -> list[Measurement]:
        """Every budget's spend, every spike ratio and every monthly projection at `now`."""
        end = now.replace(microsecond=0)
        spends: dict[str, tuple[Window, Spend, Query]] = {}
        for kind in ("month", "day", "hour"):
            window = calendar_window(kind, now)
            query = Query(SPEND_SQL, {"start": window.start, "end": end})
            spends[kind] = (window, self._spend(store, query), query)
        seen = set(spends["month"][1])
        measurements: list[Measurement] = []
        for budget in self._settings.budgets:
            window, spend, query = spends[budget.window]
            measurements += self._against_budget(budget, window, now, spend, seen, query)
        measurements += self._spikes_and_projections(store, now, spends["month"][1])
        return measurements

    @staticmethod
    def _spend(store: TelemetryStore, query: Query) -> Spend:
        return {
            (row["tenant"], row["model_name"]): float(row["spend"]) for row in store.query(query.sql, query.parameters)
        }

    def _against_budget(
        self, budget: Budget, window: Window, now: datetime, spend: Spend, seen: set[tuple[str, str]], query: Query
    ) -> list[Measurement]:
        totals: dict[tuple[str, str | None], float] = defaultdict(float)
        named = {(budget.tenant, budget.model_name or "")} if "*" not in (budget.tenant, budget.model_name) else set()
        for tenant, model in seen | named:
            if budget.tenant not in ("*", tenant) or budget.model_name not in (None, "*", model):
                continue
            scope_model = None if budget.model_name is None else model
            totals[(tenant, scope_model)] += spend.get((tenant, model), 0.0)
        current = Window(window.start, now)
        return [
            Measurement(
                self.name,
                f"spend_{budget.window}",
                Scope(tenant=tenant, model_name=model),
                value,
                current,
                None,
                query,
                f"{tenant} spent ${value:.2f} this {budget.window}"
                + (f" on {model}" if model else "")
                + f", over its ${budget.limit_usd:g} budget",
                Limit(budget.limit_usd, budget.limit_usd, critical=budget.limit_usd if budget.enforce else None),
                budget=BudgetWindow(budget, window),
            )
            for (tenant, model), value in sorted(totals.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        ]

    def _spikes_and_projections(self, store: TelemetryStore, now: datetime, month_spend: Spend) -> list[Measurement]:
        settings = self._settings
        hours = settings.trailing_hours
        recent_start = now - timedelta(hours=1)
        parameters: dict[str, object] = {
            "recent_start": recent_start.replace(microsecond=0),
            "trailing_start": (recent_start - timedelta(hours=hours)).replace(microsecond=0),
            "end": now.replace(microsecond=0),
        }
        query = Query(RATE_SQL, parameters)
        recent: dict[Scope, float] = defaultdict(float)
        trailing: dict[Scope, float] = defaultdict(float)
        for row in store.query(RATE_SQL, parameters):
            for scope in (Scope(tenant=row["tenant"]), Scope(model_name=row["model_name"])):
                recent[scope] += float(row["recent"])
                trailing[scope] += float(row["trailing"])
        current = Window(recent_start, now)
        reference = Window(recent_start - timedelta(hours=hours), recent_start)
        measurements = []
        for scope in sorted(recent, key=lambda s: (s.tenant or "", s.model_name or "")):
            average = trailing[scope] / hours
            if average < settings.min_trailing_hourly_usd:
                continue
            ratio = recent[scope] / average
            who = scope.tenant or scope.model_name
            measurements.append(
                Measurement(
                    self.name,
                    "spend_rate_ratio",
                    scope,
                    ratio,
                    current,
                    reference,
                    query,
                    f"{who} spent ${recent[scope]:.2f} in the last hour, {ratio:.1f}x its trailing hourly average",
                    Limit(settings.spend_rate_multiplier, settings.spend_rate_clear_multiplier),
                )
            )
        return measurements + self._projections(now, month_spend, recent, query)

    def _projections(
        self, now: datetime, month_spend: Spend, hourly: dict[Scope, float], query: Query
    ) -> list[Measurement]:
        """Month-to-date spend plus the last hour's rate over the hours left, for each monthly budget."""
        month = calendar_window("month", now)
        hours_left = (month.end - now).total_seconds() / 3600
        measurements = []
        for budget in self._settings.budgets:
            if budget.window != "month" or budget.model_name is not None:
                continue
            tenants = {t for t, _ in month_spend} if budget.tenant == "*" else {budget.tenant}
            for tenant in sorted(tenants):
                to_date = sum(v for (t, _), v in month_spend.items() if t == tenant)
                projected = to_date + hourly.get(Scope(tenant=tenant), 0.0) * hours_left
                measurements.append(
                    Measurement(
                        self.name,
                        "projected_month_spend",
                        Scope(tenant=tenant),
                        projected,
                        Window(month.start, now),
                        None,
                        query,
                        f"{tenant} heads for ${projected:.2f} this month; its budget is ${budget.limit_usd:g}",
                        Limit(budget.limit_usd, budget.limit_usd * 0.9),
                    )
                )
        return measurements
