"""Every event of the platform, one pydantic model per type and version: the public contract."""

from __future__ import annotations

from .alerts import AlertFiredV1, AlertResolvedV1
from .auth import ApiKeyIssuedV1, ApiKeyRevokedV1
from .base import ArtifactRef, Event
from .budgets import BudgetExceededV1, BudgetResetV1
from .data import DatasetSealedV1, DocumentErasedV1, DocumentIngestedV1, ErasureCompletedV1, RecordSubmittedV1
from .feedback import FeedbackSubmittedV1
from .inference import InferenceCompletedV1
from .lifecycle import (
    ModelAdapterLoadFailedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
)
from .prompts import PromptLabelMovedV1, PromptVersionCreatedV1
from .retrieval import CollectionsListedV1, CollectionsRequestedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from .training import (
    EvalCompletedV1,
    MetricDelta,
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)

EVENT_MODELS: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        RecordSubmittedV1,
        DocumentIngestedV1,
        DocumentErasedV1,
        DatasetSealedV1,
        ErasureCompletedV1,
        PromptVersionCreatedV1,
        PromptLabelMovedV1,
        TrainingRequestedV1,
        TrainingProgressV1,
        TrainingCancelRequestedV1,
        TrainingCompletedV1,
        EvalCompletedV1,
        ModelPromotedV1,
        ModelCanaryStartedV1,
        ModelRolledBackV1,
        ModelRetiredV1,
        ModelAdapterLoadFailedV1,
        RetrievalRequestedV1,
        RetrievalAnsweredV1,
        CollectionsRequestedV1,
        CollectionsListedV1,
        InferenceCompletedV1,
        FeedbackSubmittedV1,
        AlertFiredV1,
        AlertResolvedV1,
        BudgetExceededV1,
        BudgetResetV1,
        ApiKeyIssuedV1,
        ApiKeyRevokedV1,
    )
}
"""Every event type the platform publishes, by its CloudEvents type."""

__all__ = [
    "EVENT_MODELS",
    "AlertFiredV1",
    "AlertResolvedV1",
    "ApiKeyIssuedV1",
    "ApiKeyRevokedV1",
    "ArtifactRef",
    "BudgetExceededV1",
    "BudgetResetV1",
    "CollectionsListedV1",
    "CollectionsRequestedV1",
    "DatasetSealedV1",
    "DocumentErasedV1",
    "DocumentIngestedV1",
    "ErasureCompletedV1",
    "EvalCompletedV1",
    "Event",
    "FeedbackSubmittedV1",
    "InferenceCompletedV1",
    "MetricDelta",
    "ModelAdapterLoadFailedV1",
    "ModelCanaryStartedV1",
    "ModelPromotedV1",
    "ModelRetiredV1",
    "ModelRolledBackV1",
    "PromptLabelMovedV1",
    "PromptVersionCreatedV1",
    "RecordSubmittedV1",
    "RetrievalAnsweredV1",
    "RetrievalRequestedV1",
    "TrainingCancelRequestedV1",
    "TrainingCompletedV1",
    "TrainingProgressV1",
    "TrainingRequestedV1",
]
