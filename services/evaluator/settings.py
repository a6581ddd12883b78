"""Settings of the evaluator, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from llmops_common.engines.factory import EngineKind
from llmops_common.settings import ServiceSettings

from .gate import GatePolicy


class ModelEvalPolicy(BaseModel):
    """How one deployed model's candidates are judged, and how a passing one meets live traffic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gate: GatePolicy = Field(default_factory=GatePolicy)
    canary_percent: float = Field(default=10.0, gt=0, lt=100)
    """The share of the model's traffic a passing candidate gets while the monitor watches it."""
    eval_sets: tuple[str, ...] = ()
    """Datasets registered as the model's eval sets, as `name@version` or `name@latest` (every row counts,
    whatever its split), scored beside the training dataset's held-out split."""
    retrieval_set: str | None = None
    """For a RAG model: a dataset of labelled queries (`name@version` or `name@latest`) whose hit@k and MRR
    each evaluation reports (retrieval_eval.py)."""
    retrieval_top_k: int = Field(default=5, ge=1, le=100)
    """The k of hit@k and MRR: chunks asked of the retriever per query, as a RAG request's `top_k`."""
    shared: bool = False
    """Serve the model's adapters to every tenant. Off, an adapter is its training tenant's alone: other
    tenants get 404 for the model, since its weights may repeat that tenant's data."""


class Settings(ServiceSettings):
    """The evaluator's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "evaluator"

    base_model_name: str | None = None
    """The name lifecycle events give the base model; unset, its folder name or hub id."""
    eval_engine: EngineKind = "transformers"
    """The engine that generates the answers: the model server's own code. `transformers` by default,
    since a second vLLM engine beside the server's doubles the memory of a one-machine platform."""
    eval_batch_size: int = Field(default=8, ge=1)
    """Requests in flight at once, the same for both arms, so batching treats them alike."""
    eval_max_new_tokens: int = Field(default=96, ge=1)
    """The most tokens each arm generates per example."""
    eval_max_examples: int = Field(default=500, ge=1)
    """The most examples one evaluation scores (held-out first, then eval sets), taken in a stable order."""
    eval_policies: dict[str, ModelEvalPolicy] = Field(default_factory=dict)
    """Per deployed model name (JSON); a model without one gets `default_eval_policy`."""
    default_eval_policy: ModelEvalPolicy = Field(default_factory=ModelEvalPolicy)
    eval_max_job_seconds: float = Field(default=3600.0, gt=0)
    """The longest one evaluation may run; Kafka keeps its partition assigned to this evaluator that long."""

    # Prompt gating (prompt_gate.py): a version that gets the eval label is scored against the baseline label.
    prompt_eval_label: str = "staging"
    """The label whose moves start a prompt evaluation."""
    prompt_baseline_label: str = "production"
    """The label of the version a prompt candidate is compared with."""
    prompt_eval_dataset_prefix: str = "prompt-"
    """A prompt's eval set is the tenant's dataset named this prefix and the prompt's name."""
    prompt_replica_wait_seconds: float = Field(default=30.0, gt=0)
    """How long a label move may take to reach the evaluator's prompt replica before it is retried."""

    # RAG retrieval scores (retrieval_eval.py), for models whose policy names a retrieval set.
    eval_retrieval_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long each labelled query waits for the retriever; a late answer leaves hit@k and MRR out."""

    def policy_for(self, model_name: str) -> ModelEvalPolicy:
        """The policy of a deployed model."""
        return self.eval_policies.get(model_name, self.default_eval_policy)
