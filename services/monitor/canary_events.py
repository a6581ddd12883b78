"""The lifecycle events that end a canary: the candidate promoted, or the stable version rolled back to.

Both keep the canary's owner and sharing: a tenant's model stays that tenant's once its canary ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from llmops_common.events import ModelPromotedV1, ModelRolledBackV1

from .canary_board import Canary

CHANGED_BY = "monitor"


def promotion(canary: Canary, now: datetime) -> ModelPromotedV1:
    """All of the model's traffic to the candidate. The canary event carries no eval id, so none is set."""
    started = canary.event
    return ModelPromotedV1(
        model_name=started.model_name,
        base_model=started.base_model,
        adapter_version=started.candidate_adapter_version,
        adapter=started.candidate_adapter,
        owner_tenant=started.owner_tenant,
        shared=started.shared,
        changed_by=CHANGED_BY,
        changed_at=now,
    )


def rollback(canary: Canary, failed_checks: Sequence[Sequence[str]], now: datetime) -> ModelRolledBackV1:
    """All of the model's traffic back to the stable version, saying why each failed check failed."""
    started = canary.event
    checks = "; ".join(
        f"check {number}: {' and '.join(reasons)}" for number, reasons in enumerate(failed_checks, start=1)
    )
    return ModelRolledBackV1(
        model_name=started.model_name,
        base_model=started.base_model,
        adapter_version=started.stable_adapter_version,
        adapter=started.stable_adapter,
        reason=(
            f"canary of {started.candidate_adapter_version} failed {len(failed_checks)} consecutive checks "
            f"against {started.stable_adapter_version or 'the base model'}: {checks}"
        ),
        owner_tenant=started.owner_tenant,
        shared=started.shared,
        changed_by=CHANGED_BY,
        changed_at=now,
    )
