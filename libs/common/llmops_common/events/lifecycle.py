"""Events on the compacted topic `llmops.models.lifecycle`, which says what each deployed model serves."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from .base import ArtifactRef, Event, TenantId


class _ModelEvent(Event):
    model_name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    changed_by: str
    changed_at: AwareDatetime

    def event_key(self) -> str:
        # Keyed by deployed model, so compaction keeps each model's current state.
        return self.model_name


class _ServingModelEvent(_ModelEvent):
    owner_tenant: TenantId | None = Field(
        default=None,
        description="The tenant whose data trained the adapter: to every other tenant the model does not exist "
        "(404, absent from /v1/models) unless `shared`. None: a model of every tenant, as before owners existed.",
    )
    shared: bool = Field(default=False, description="Served to every tenant although it has an owner.")


class ModelPromotedV1(_ServingModelEvent):
    """A deployed model now serves this adapter version (or the bare base model) to all traffic."""

    event_type = "llmops.model.promoted.v1"

    base_model: str
    adapter_version: str | None = None
    adapter: ArtifactRef | None = None
    eval_id: str | None = None


class ModelCanaryStartedV1(_ServingModelEvent):
    """A share of a deployed model's traffic goes to a candidate adapter version."""

    event_type = "llmops.model.canary.started.v1"

    base_model: str
    stable_adapter_version: str | None = None
    candidate_adapter_version: str
    candidate_adapter: ArtifactRef | None = None
    stable_adapter: ArtifactRef | None = None
    """The stable version's artifact: compaction keeps only this event per model, so it must say where
    the stable adapter lies too."""
    candidate_percent: float = Field(gt=0, lt=100)


class ModelRolledBackV1(_ServingModelEvent):
    """A deployed model went back to an earlier adapter version."""

    event_type = "llmops.model.rolled_back.v1"

    base_model: str
    adapter_version: str | None = None
    adapter: ArtifactRef | None = None
    reason: str


class ModelRetiredV1(_ModelEvent):
    """A deployed model is no longer served."""

    event_type = "llmops.model.retired.v1"

    reason: str = ""


class ModelAdapterLoadFailedV1(Event):
    """A model server could not load an adapter a lifecycle event asked for; what served before still serves."""

    event_type = "llmops.model.adapter.load_failed.v1"

    model_name: str = Field(min_length=1, max_length=128)
    adapter_version: str
    adapter: ArtifactRef | None = None
    lifecycle_event_type: str
    server: str = Field(description="The model server instance (host and port) that failed.")
    error: str
    failed_at: AwareDatetime

    def event_key(self) -> str:
        return self.model_name
