"""Budget enforcement: a tenant's spend went past an enforced budget, and later its window reset."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from .base import Event, TenantId

BudgetWindow = Literal["hour", "day", "month"]


class _BudgetEvent(Event):
    budget_id: str = Field(
        min_length=1, max_length=256, description="Stable per budget and window kind: `tenant/model/window`."
    )
    tenant: TenantId
    model_name: str | None = Field(default=None, description="None: the budget covers every model of the tenant.")
    window: BudgetWindow
    window_start: AwareDatetime
    window_end: AwareDatetime = Field(description="When the budget window resets.")
    at: AwareDatetime

    def event_key(self) -> str:
        # Keyed by budget, so compaction keeps each budget's current state: blocked or not.
        return self.budget_id


class BudgetExceededV1(_BudgetEvent):
    """The spend in a budget window passed an enforced budget: the tenant is refused until `window_end`."""

    event_type = "llmops.budget.exceeded.v1"

    spend_usd: float = Field(ge=0)
    budget_usd: float = Field(ge=0)
    alert_id: str


class BudgetResetV1(_BudgetEvent):
    """The tenant is under this budget again: a new window began (the window fields name it)."""

    event_type = "llmops.budget.reset.v1"
