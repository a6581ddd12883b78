"""The topic catalog: each topic's name, partition key, retention or compaction, and event types.

This module is the one place a topic is defined; `llmops topics create`, the schema export and the
compose file's topic configuration all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .events import (
    AlertFiredV1,
    AlertResolvedV1,
    ApiKeyIssuedV1,
    ApiKeyRevokedV1,
    BudgetExceededV1,
    BudgetResetV1,
    CollectionsListedV1,
    CollectionsRequestedV1,
    DatasetSealedV1,
    DocumentErasedV1,
    DocumentIngestedV1,
    ErasureCompletedV1,
    EvalCompletedV1,
    Event,
    FeedbackSubmittedV1,
    InferenceCompletedV1,
    ModelAdapterLoadFailedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
    PromptLabelMovedV1,
    PromptVersionCreatedV1,
    RecordSubmittedV1,
    RetrievalAnsweredV1,
    RetrievalRequestedV1,
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)

DAY_MS = 24 * 60 * 60 * 1000
DEAD_LETTER_PREFIX = "llmops.dlq."


@dataclass(frozen=True)
class TopicSpec:
    """One Kafka topic and the contract it carries."""

    name: str
    description: str
    key: str
    events: tuple[type[Event], ...]
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    cleanup_policy: Literal["delete", "compact"] = "delete"
    retention_ms: int = 7 * DAY_MS
    extra_config: dict[str, str] = field(default_factory=dict)
    partitions: int | None = None
    """A fixed partition count, for a topic that needs one total order; None takes the platform's default."""

    def kafka_config(self) -> dict[str, str]:
        """The topic-level Kafka configuration to create the topic with."""
        config = {"cleanup.policy": self.cleanup_policy, **self.extra_config}
        if self.cleanup_policy == "delete":
            config["retention.ms"] = str(self.retention_ms)
        return config

    def accepts(self, event_type: str) -> bool:
        """Whether `event_type` may travel on this topic."""
        return any(model.event_type == event_type for model in self.events)


DATA_RAW = TopicSpec(
    "llmops.data.raw",
    "Raw records for ingestion, from other teams and from feedback.",
    "record_id",
    (RecordSubmittedV1,),
    ("external", "feedback_collector"),
    ("ingestion",),
)
DATA_DOCUMENTS = TopicSpec(
    "llmops.data.documents",
    "Clean documents to index, and erasures of documents.",
    "doc_id",
    (DocumentIngestedV1, DocumentErasedV1),
    ("ingestion",),
    ("rag_retriever",),
    retention_ms=30 * DAY_MS,
)
DATA_DATASETS = TopicSpec(
    "llmops.data.datasets",
    "Sealed, immutable dataset versions; compaction keeps each dataset's latest.",
    "tenant/name",
    (DatasetSealedV1,),
    ("ingestion",),
    ("trainer", "evaluator", "monitor"),
    cleanup_policy="compact",
)
DATA_ERASURES = TopicSpec(
    "llmops.data.erasures",
    "The audit log of right-to-erasure requests carried out: who asked, when, what, and how much went.",
    "erasure_id",
    (ErasureCompletedV1,),
    ("ingestion",),
    ("external",),
    # Compacted with a key per request: compaction never drops one, and the log has no time limit.
    cleanup_policy="compact",
)
PROMPTS = TopicSpec(
    "llmops.prompts",
    "The prompt registry's source of truth: versions and label moves.",
    "tenant/name/v/version/change_id or tenant/name/l/label/change_id",
    (PromptVersionCreatedV1, PromptLabelMovedV1),
    ("prompt_registry",),
    ("prompt_registry", "model_server", "evaluator"),
    cleanup_policy="compact",
    # One partition, as Confluent's `_schemas` topic has: every change to every prompt in one total
    # order, so that of two concurrent writes the first one in the log wins, everywhere.
    partitions=1,
)
AUTH_KEYS = TopicSpec(
    "llmops.auth.keys",
    "API keys as they are issued and revoked, as salted hashes; every service with an API replays it.",
    "key_id",
    (ApiKeyIssuedV1, ApiKeyRevokedV1),
    ("cli",),
    ("model_server", "prompt_registry", "feedback_collector", "ingestion", "monitor"),
    cleanup_policy="compact",
)
TRAINING_REQUESTS = TopicSpec(
    "llmops.training.requests",
    "Requests for a LoRA fine-tune: by hand, from other teams, or from the trainer's auto-retrain policy.",
    "job_id",
    (TrainingRequestedV1,),
    ("external", "cli", "trainer"),
    ("trainer",),
)
TRAINING_CONTROL = TopicSpec(
    "llmops.training.control",
    "Requests to cancel a running fine-tune; read apart from the requests, so a busy trainer still sees them.",
    "job_id",
    (TrainingCancelRequestedV1,),
    ("cli", "external"),
    ("trainer",),
)
TRAINING_PROGRESS = TopicSpec(
    "llmops.training.progress",
    "Progress of running fine-tunes: step, loss, learning rate, tokens/s and ETA, every few steps.",
    "job_id",
    (TrainingProgressV1,),
    ("trainer",),
    ("cli", "external"),
    retention_ms=DAY_MS,
)
TRAINING_COMPLETED = TopicSpec(
    "llmops.training.completed",
    "Finished fine-tunes and the adapters they made.",
    "job_id",
    (TrainingCompletedV1,),
    ("trainer",),
    ("evaluator", "monitor"),
    retention_ms=30 * DAY_MS,
)
EVAL_COMPLETED = TopicSpec(
    "llmops.eval.completed",
    "Evaluation results and promotion-gate verdicts.",
    "eval_id",
    (EvalCompletedV1,),
    ("evaluator",),
    ("monitor", "external"),
    retention_ms=30 * DAY_MS,
)
MODELS_LIFECYCLE = TopicSpec(
    "llmops.models.lifecycle",
    "What each deployed model serves: promotions, canaries, rollbacks.",
    "model_name",
    (ModelPromotedV1, ModelCanaryStartedV1, ModelRolledBackV1, ModelRetiredV1),
    ("evaluator", "monitor", "external"),
    ("model_server", "monitor", "evaluator"),
    cleanup_policy="compact",
)
MODELS_SERVING = TopicSpec(
    "llmops.models.serving",
    "What model servers report about serving: adapters that failed to load.",
    "model_name",
    (ModelAdapterLoadFailedV1,),
    ("model_server",),
    ("monitor", "external"),
)
RETRIEVAL_REQUESTS = TopicSpec(
    "llmops.retrieval.requests",
    "Retrieval requests, and requests for a tenant's collections; each names the topic to reply on.",
    "request_id",
    (RetrievalRequestedV1, CollectionsRequestedV1),
    ("model_server", "evaluator", "ingestion"),
    ("rag_retriever",),
    retention_ms=DAY_MS // 24,
)
RETRIEVAL_REPLIES = TopicSpec(
    "llmops.retrieval.replies",
    "Retrieval replies and collection listings, matched to requests by correlation id.",
    "request_id",
    (RetrievalAnsweredV1, CollectionsListedV1),
    ("rag_retriever",),
    ("model_server", "evaluator", "ingestion"),
    retention_ms=DAY_MS // 24,
)
INFERENCE_COMPLETED = TopicSpec(
    "llmops.inference.completed",
    "Telemetry of every inference request.",
    "request_id",
    (InferenceCompletedV1,),
    ("model_server",),
    ("monitor", "feedback_collector"),
)
FEEDBACK = TopicSpec(
    "llmops.feedback",
    "Human feedback on served responses.",
    "request_id",
    (FeedbackSubmittedV1,),
    ("feedback_collector",),
    ("monitor",),
    retention_ms=30 * DAY_MS,
)
ALERTS = TopicSpec(
    "llmops.alerts",
    "Alerts fired and resolved by the monitor.",
    "alert_id",
    (AlertFiredV1, AlertResolvedV1),
    ("monitor",),
    ("monitor", "model_server", "trainer", "external"),
    retention_ms=30 * DAY_MS,
)
BUDGETS = TopicSpec(
    "llmops.budgets",
    "Enforced budgets: a tenant blocked until its budget window resets, and the reset.",
    "budget_id",
    (BudgetExceededV1, BudgetResetV1),
    ("monitor",),
    ("model_server",),
    # Each budget's latest state is all a replica needs; compaction keeps exactly that.
    cleanup_policy="compact",
)

CATALOG: tuple[TopicSpec, ...] = (
    DATA_RAW,
    DATA_DOCUMENTS,
    DATA_DATASETS,
    DATA_ERASURES,
    PROMPTS,
    AUTH_KEYS,
    TRAINING_REQUESTS,
    TRAINING_CONTROL,
    TRAINING_PROGRESS,
    TRAINING_COMPLETED,
    EVAL_COMPLETED,
    MODELS_LIFECYCLE,
    MODELS_SERVING,
    RETRIEVAL_REQUESTS,
    RETRIEVAL_REPLIES,
    INFERENCE_COMPLETED,
    FEEDBACK,
    ALERTS,
    BUDGETS,
)
"""Every topic of the platform, dead-letter topics aside."""


def dead_letter_topic(group_id: str) -> str:
    """The dead-letter topic of a consumer group."""
    return f"{DEAD_LETTER_PREFIX}{group_id}"


def topic_for_event(event_type: str) -> TopicSpec:
    """The topic an event type travels on."""
    for spec in CATALOG:
        if spec.accepts(event_type):
            return spec
    raise KeyError(f"no topic carries {event_type}")
