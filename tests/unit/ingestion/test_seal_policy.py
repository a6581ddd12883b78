"""The seal policy: a dataset is due by size once enough examples wait, by age once its change is old."""

from __future__ import annotations

from services.ingestion.dataset_ledger import Pending
from services.ingestion.seal_policy import SealPolicy


def pending(added: int, changed_at: float | None) -> Pending:
    return Pending("acme", "support", added, changed_at)


def test_size_and_age_rules() -> None:
    policy = SealPolicy(max_pending_examples=100, max_age_seconds=60)

    assert policy.trigger(pending(100, 1000.0), now=1001.0) == "size"
    assert policy.trigger(pending(99, 1000.0), now=1059.0) is None
    assert policy.trigger(pending(1, 1000.0), now=1060.0) == "age"
    assert policy.trigger(pending(0, None), now=9999.0) is None


def test_rules_are_off_unless_set() -> None:
    assert not SealPolicy().enabled
    assert SealPolicy().trigger(pending(10**6, 0.0), now=10**9) is None
    assert SealPolicy(max_age_seconds=1).enabled
