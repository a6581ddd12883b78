"""What each deployed model serves to all its traffic now: the baseline a candidate must beat.

Kept from the compacted `llmops.models.lifecycle`: a promotion or a rollback sets it, a canary leaves its
stable version in place, a retirement leaves the bare base model. It keeps the model's owner too: a
tenant's adapter neither replaces nor is scored against another tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops_common.events import (
    Event,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
)
from llmops_common.events.base import ArtifactRef
from llmops_common.kafka.envelope import Envelope


@dataclass(frozen=True)
class ProductionVersion:
    """A model's production adapter version (`version` None: the bare base model) and its owner tenant."""

    version: str | None = None
    adapter: ArtifactRef | None = None
    owner_tenant: str | None = None

    def owned_by_another(self, tenant: str) -> bool:
        """Whether the model belongs to a tenant other than `tenant` (an unowned one belongs to none)."""
        return self.owner_tenant is not None and self.owner_tenant != tenant


BARE_BASE = ProductionVersion()


class ProductionTable:
    """Every deployed model's production version, applied from lifecycle events in log order."""

    def __init__(self) -> None:
        self._versions: dict[str, ProductionVersion] = {}

    def apply(self, event: Event, _: Envelope) -> None:
        """Applies one lifecycle event (a `TopicReplica` callback)."""
        if isinstance(event, ModelPromotedV1 | ModelRolledBackV1):
            self._versions[event.model_name] = ProductionVersion(
                event.adapter_version, event.adapter, event.owner_tenant
            )
        elif isinstance(event, ModelCanaryStartedV1):
            self._versions[event.model_name] = ProductionVersion(
                event.stable_adapter_version, event.stable_adapter, event.owner_tenant
            )
        elif isinstance(event, ModelRetiredV1):
            self._versions.pop(event.model_name, None)

    def of(self, model_name: str) -> ProductionVersion:
        """The model's production version; the bare base model for a model never deployed."""
        return self._versions.get(model_name, BARE_BASE)
