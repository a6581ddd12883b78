"""The FastAPI side of enforced budgets: a dependency that answers 429 with Retry-After to a blocked tenant."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Request

from ..errors import TooManyRequestsError
from .blocklist import BudgetBlocklist

Clock = Callable[[], datetime]


def refuse_if_over_budget(blocklist: BudgetBlocklist, tenant: str, model_name: str | None, now: datetime) -> None:
    """Raises `TooManyRequestsError` (429, Retry-After: seconds to the window's end) when a budget blocks."""
    block = blocklist.blocking(tenant, model_name, now)
    if block is None:
        return
    retry_after = max(1, math.ceil((block.until - now).total_seconds()))
    raise TooManyRequestsError(
        f"tenant {tenant} is over its budget {block.budget_id} until {block.until.isoformat()}",
        retry_after_seconds=retry_after,
        detail={"budget_id": block.budget_id, "until": block.until.isoformat()},
    )


def budget_guard(
    tenant_of: Callable[[Request], str],
    model_of: Callable[[Request], str | None] = lambda _: None,
    clock: Clock = lambda: datetime.now(UTC),
) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses requests of blocked tenants; the blocklist is `deps.budgets`.

    `tenant_of` names the caller (from its API key, say) and `model_of` the model it asks for, so a
    budget of one model does not block the tenant's other models.
    """

    def guard(request: Request) -> None:
        blocklist: BudgetBlocklist = request.state.deps.budgets
        refuse_if_over_budget(blocklist, tenant_of(request), model_of(request), clock())

    return guard
