"""The tenants blocked by enforced budgets, rebuilt from `llmops.budgets` events in log order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..events import BudgetExceededV1, BudgetResetV1


@dataclass(frozen=True)
class Block:
    """One exceeded budget: whom it blocks, and until when at the latest."""

    budget_id: str
    tenant: str
    model_name: str | None
    until: datetime

    def covers(self, tenant: str, model_name: str | None) -> bool:
        """Whether a request of `tenant` for `model_name` falls under this budget."""
        return self.tenant == tenant and (self.model_name is None or self.model_name == model_name)


class BudgetBlocklist:
    """Blocks by budget id. A block also ends on its own at `until`, the end of its budget window, so a
    reset event that comes late (or never, if the monitor is down) cannot keep a tenant out longer."""

    def __init__(self) -> None:
        self._blocks: dict[str, Block] = {}

    def apply(self, event: BudgetExceededV1 | BudgetResetV1) -> None:
        """Applies one event: an exceeded budget blocks, a reset unblocks."""
        if isinstance(event, BudgetExceededV1):
            self._blocks[event.budget_id] = Block(event.budget_id, event.tenant, event.model_name, event.window_end)
        else:
            self._blocks.pop(event.budget_id, None)

    def blocking(self, tenant: str, model_name: str | None, now: datetime) -> Block | None:
        """The block that holds longest over this request at `now`, or None when it may pass."""
        active = [b for b in self._blocks.values() if b.until > now and b.covers(tenant, model_name)]
        return max(active, key=lambda block: block.until, default=None)

    def blocked_tenants(self, now: datetime) -> set[str]:
        """Every tenant with a block in force at `now`."""
        return {block.tenant for block in self._blocks.values() if block.until > now}
