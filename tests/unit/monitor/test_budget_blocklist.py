"""The blocklist every API can consult: blocks by budget, unblocks on reset or at the window's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from llmops_common.budgets.blocklist import BudgetBlocklist
from llmops_common.budgets.http import refuse_if_over_budget
from llmops_common.errors import TooManyRequestsError
from llmops_common.events import BudgetExceededV1, BudgetResetV1

HOUR_START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR_END = HOUR_START + timedelta(hours=1)


def exceeded(tenant: str = "acme", model: str | None = None) -> BudgetExceededV1:
    return BudgetExceededV1(
        budget_id=f"{tenant}/{model or '*'}/hour",
        tenant=tenant,
        model_name=model,
        window="hour",
        window_start=HOUR_START,
        window_end=HOUR_END,
        at=HOUR_START + timedelta(minutes=40),
        spend_usd=12.0,
        budget_usd=10.0,
        alert_id="cost.spend_hour/acme/*",
    )


def test_a_tenant_budget_blocks_every_model_of_that_tenant_only() -> None:
    blocklist = BudgetBlocklist()
    blocklist.apply(exceeded())
    at = HOUR_START + timedelta(minutes=45)
    assert blocklist.blocking("acme", "any-model", at) is not None
    assert blocklist.blocking("globex", "any-model", at) is None


def test_a_model_budget_blocks_that_model_only() -> None:
    blocklist = BudgetBlocklist()
    blocklist.apply(exceeded(model="big-model"))
    at = HOUR_START + timedelta(minutes=45)
    assert blocklist.blocking("acme", "big-model", at) is not None
    assert blocklist.blocking("acme", "small-model", at) is None


def test_a_block_ends_at_the_window_end_even_without_a_reset() -> None:
    blocklist = BudgetBlocklist()
    blocklist.apply(exceeded())
    assert blocklist.blocked_tenants(HOUR_END - timedelta(seconds=1)) == {"acme"}
    assert blocklist.blocked_tenants(HOUR_END) == set()


def test_a_reset_unblocks_at_once() -> None:
    blocklist = BudgetBlocklist()
    event = exceeded()
    blocklist.apply(event)
    blocklist.apply(BudgetResetV1(**event.model_dump(include=set(BudgetResetV1.model_fields))))
    assert blocklist.blocked_tenants(HOUR_START + timedelta(minutes=45)) == set()


def test_a_refusal_says_how_long_to_wait() -> None:
    blocklist = BudgetBlocklist()
    blocklist.apply(exceeded())
    with pytest.raises(TooManyRequestsError) as refused:
        refuse_if_over_budget(blocklist, "acme", None, HOUR_END - timedelta(seconds=90.5))
    assert refused.value.retry_after_seconds == 91
    assert refused.value.status_code == 429
    assert refused.value.detail == {"budget_id": "acme/*/hour", "until": HOUR_END.isoformat()}
