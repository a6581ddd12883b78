"""The hook where a tenant can be refused before any work: a tenant whose enforced budget is spent.

The model server asks its `TenantGate` on every request. By default that is `BudgetTenantGate` over the
replica of `llmops.budgets`, where the monitor publishes enforced budgets that were exceeded and reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from llmops_common.budgets.blocklist import BudgetBlocklist


@dataclass(frozen=True)
class Refusal:
    """Why a tenant is refused (shown to the caller with 429), and in how many seconds it may try again."""

    reason: str
    retry_after: float


class TenantGate(Protocol):
    """Says whether a tenant may call a model now."""

    def refusal(self, tenant: str, model_name: str) -> Refusal | None:
        """Why `tenant` may not call `model_name` now, or None when it may go on."""
        ...


class OpenTenantGate:
    """Blocks no tenant."""

    def refusal(self, tenant: str, model_name: str) -> Refusal | None:
        """Always None."""
        return None


class BudgetTenantGate:
    """Refuses a tenant while one of its enforced budgets is spent: until the monitor's reset event, or at
    the latest the end of the budget's window."""

    def __init__(self, blocklist: BudgetBlocklist, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._blocklist = blocklist
        self._clock = clock

    def refusal(self, tenant: str, model_name: str) -> Refusal | None:
        """The budget that blocks this call longest, as a refusal, or None."""
        now = self._clock()
        block = self._blocklist.blocking(tenant, model_name, now)
        if block is None:
            return None
        reason = f"the budget {block.budget_id} is spent until {block.until.isoformat()}"
        return Refusal(reason, (block.until - now).total_seconds())
