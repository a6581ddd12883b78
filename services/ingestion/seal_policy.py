"""The seal policy: a dataset is sealed on its own once enough examples wait (size), or once its
oldest unsealed change is old enough (age). Both are settings, and both are off by default."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .dataset_ledger import DatasetLedger, Pending
from .sealing import DatasetSealer, EmptyDatasetError, Trigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealPolicy:
    """When a dataset is sealed without a command; None turns a rule off."""

    max_pending_examples: int | None = None
    max_age_seconds: float | None = None

    @property
    def enabled(self) -> bool:
        """Whether any rule is on."""
        return self.max_pending_examples is not None or self.max_age_seconds is not None

    def trigger(self, pending: Pending, now: float) -> Trigger | None:
        """The rule that makes `pending` due now, if one does."""
        if self.max_pending_examples is not None and pending.added >= self.max_pending_examples:
            return "size"
        if (
            self.max_age_seconds is not None
            and pending.changed_at is not None
            and now - pending.changed_at >= self.max_age_seconds
        ):
            return "age"
        return None


async def apply_policy(
    policy: SealPolicy, ledger: DatasetLedger, sealer: DatasetSealer, now: Callable[[], float] = time.time
) -> int:
    """Seals every dataset the policy makes due; returns how many were sealed."""
    sealed = 0
    for pending in ledger.changed():
        trigger = policy.trigger(pending, now())
        if trigger is None:
            continue
        try:
            await sealer.seal(pending.tenant, pending.dataset, trigger)
            sealed += 1
        except EmptyDatasetError:
            ledger.settle(pending)  # emptied by erasures: nothing to seal until examples come
    return sealed


async def run_policy(policy: SealPolicy, ledger: DatasetLedger, sealer: DatasetSealer, interval_seconds: float) -> None:
    """Applies the policy every `interval_seconds`, until cancelled; a failed round is logged and retried."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await apply_policy(policy, ledger, sealer)
        except Exception:
            log.exception("the seal policy failed; it runs again next round")
