"""The evaluator's work: score a fine-tuned candidate against production, gate it, start its canary.

Both arms answer the same held-out examples greedily through the serving engine, with the same batch
size; each example is scored on both, and a paired bootstrap of the differences gives every metric's
95% interval. A candidate that passes the gate is published as a canary with the model's configured
share; one that fails is only reported, and production is untouched. An evaluation is kept before its
events are published, so a redelivered `training.completed` re-publishes them and scores nothing again.

The canary names the job's tenant as the model's owner (the adapter learned from its data), so the
model server serves it to that tenant alone unless the model's policy says `shared`. A model another
tenant owns is not this job's to replace: the candidate is scored against the bare base model (the
other tenant's adapter never answers this tenant's examples) and the gate fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmops_common.dataset_rows import read_dataset_rows
from llmops_common.engines.base import AdapterSpec
from llmops_common.events import EvalCompletedV1, ModelCanaryStartedV1, TrainingCompletedV1
from llmops_common.events.base import ArtifactRef

from .answers import greedy_answers
from .arm_perplexity import arm_perplexities
from .bootstrap import paired_deltas
from .examples import EvalExample, held_out_examples
from .gate import GateVerdict, judge
from .metrics import example_scores, mean_scores
from .parts import EvaluationParts
from .production import BARE_BASE, ProductionVersion
from .report import ExampleSample, ReportInputs, render_chart, render_markdown
from .retrieval_eval import NOT_ASKED, AskRetriever, RetrievalScores, score_retrieval_set
from .settings import ModelEvalPolicy
from .store import EvalOutcome

log = logging.getLogger(__name__)

Scores = list[dict[str, float]]


@dataclass(frozen=True)
class ArmResults:
    """One arm's answers and per-example scores, in the examples' order."""

    answers: list[str]
    scores: Scores


class EvaluatorService:
    """Evaluates succeeded fine-tunes one at a time on the evaluator's engine."""

    def __init__(self, parts: EvaluationParts, base_model_path: str, ask_retriever: AskRetriever | None = None) -> None:
        """`ask_retriever` sends one retrieval request; needed only by policies that name a retrieval set."""
        self._settings, self._engine, self._store = parts.settings, parts.engine, parts.store
        self._datasets, self._production = parts.datasets, parts.production
        self._artifacts, self._publisher = parts.artifacts, parts.publisher
        self._base_model_path = base_model_path
        self._ask_retriever = ask_retriever

    async def handle(self, completed: TrainingCompletedV1) -> EvalOutcome | None:
        """Evaluates a succeeded fine-tune unless it was evaluated before, and publishes the outcome."""
        if completed.status != "succeeded" or completed.adapter is None or completed.adapter_version is None:
            return None
        eval_id = f"eval-{completed.job_id}"
        outcome = self._store.outcome(eval_id)
        if outcome is None:
            outcome = await self._evaluate(eval_id, completed, completed.adapter, completed.adapter_version)
            self._store.keep(outcome)
        await self._publisher.publish(outcome.completed)
        if outcome.canary is not None:
            await self._publisher.publish(outcome.canary)
        return outcome

    async def _evaluate(
        self, eval_id: str, completed: TrainingCompletedV1, adapter: ArtifactRef, version: str
    ) -> EvalOutcome:
        policy = self._settings.policy_for(completed.model_name)
        examples = self._examples(completed, policy)
        production = self._production.of(completed.model_name)
        owned_elsewhere = production.owned_by_another(completed.tenant)
        if owned_elsewhere:
            production = BARE_BASE
        log.info("evaluating", extra={"eval_id": eval_id, "examples": len(examples)})
        retrieval = await self._retrieval(eval_id, completed.tenant, policy)
        candidate_dir = self._adapter_folder(adapter)
        baseline_dir = self._adapter_folder(production.adapter) if production.adapter else None
        prompts = [example.prompt_text(self._engine.tokenizer.render_chat) for example in examples]
        references = [example.reference for example in examples]
        baseline = await self._arm(eval_id, "baseline", production.version, baseline_dir, prompts, references)
        candidate = await self._arm(eval_id, "candidate", version, candidate_dir, prompts, references)
        perplexities = await asyncio.to_thread(
            arm_perplexities,
            self._base_model_path,
            {"baseline": baseline_dir, "candidate": candidate_dir},
            prompts,
            references,
            batch_size=self._settings.eval_batch_size,
        )
        for arm, results in (("baseline", baseline), ("candidate", candidate)):
            for scores, perplexity in zip(results.scores, perplexities[arm], strict=True):
                scores["perplexity"] = perplexity
        gate = policy.gate
        deltas = (
            paired_deltas(candidate.scores, baseline.scores, resamples=gate.resamples, seed=gate.seed)
            if examples
            else {}
        )
        deltas |= retrieval.deltas
        verdict = judge(gate, deltas, len(examples))
        ownership = [f"model {completed.model_name} belongs to another tenant"] if owned_elsewhere else []
        verdict = GateVerdict(verdict.passed and not owned_elsewhere, [*verdict.reasons, *retrieval.notes, *ownership])
        event = self._completed_event(eval_id, completed, version, production, baseline, candidate, deltas, verdict)
        event = retrieval.added_to(event)
        report = ReportInputs(
            model_name=completed.model_name,
            eval_id=eval_id,
            candidate_version=version,
            baseline_version=production.version,
            dataset=event.dataset,
            dataset_version=event.dataset_version,
            examples=len(examples),
            baseline_metrics=event.baseline_metrics,
            candidate_metrics=event.metrics,
            deltas=deltas,
            verdict=verdict,
            primary_metric=gate.primary_metric,
            samples=_samples(examples, baseline.answers, candidate.answers),
        )
        event = self._with_report(event, report)
        canary = self._canary(completed, version, adapter, production, policy) if verdict.passed else None
        log.info("evaluated", extra={"eval_id": eval_id, "gate_passed": verdict.passed})
        return EvalOutcome(event, canary)

    def _examples(self, completed: TrainingCompletedV1, policy: ModelEvalPolicy) -> list[EvalExample]:
        if completed.dataset_artifact is not None:
            rows = read_dataset_rows(self._artifacts.get_bytes(completed.dataset_artifact))
        else:
            rows = self._dataset_rows(completed.tenant, completed.dataset or "", completed.dataset_version or "latest")
        eval_sets = []
        for reference in policy.eval_sets:
            name, _, version = reference.partition("@")
            eval_sets.append((f"eval set {reference}", self._dataset_rows(completed.tenant, name, version or "latest")))
        return held_out_examples(rows, eval_sets, limit=self._settings.eval_max_examples)

    async def _retrieval(self, eval_id: str, tenant: str, policy: ModelEvalPolicy) -> RetrievalScores:
        if policy.retrieval_set is None:
            return NOT_ASKED
        if self._ask_retriever is None:
            return RetrievalScores(notes=("hit_at_k and mrr not measured: this evaluator has no retriever to ask",))
        name, _, version = policy.retrieval_set.partition("@")
        sealed = self._datasets.find(tenant, name, version or "latest")
        return await score_retrieval_set(
            self._ask_retriever,
            reference=policy.retrieval_set,
            tenant=tenant,
            rows=read_dataset_rows(self._artifacts.get_bytes(sealed.artifact)) if sealed else None,
            top_k=policy.retrieval_top_k,
            limit=self._settings.eval_max_examples,
            request_prefix=eval_id,
        )

    def _dataset_rows(self, tenant: str, name: str, version: str) -> list[dict[str, Any]]:
        sealed = self._datasets.find(tenant, name, version) if name else None
        if sealed is None:
            return []
        return read_dataset_rows(self._artifacts.get_bytes(sealed.artifact))

    def _adapter_folder(self, ref: ArtifactRef) -> Path:
        folder = self._settings.state_dir / "adapters" / ref.sha256
        if not folder.exists():
            self._artifacts.fetch_folder(ref, folder)
        return folder

    async def _arm(
        self,
        eval_id: str,
        arm: str,
        version: str | None,
        adapter_dir: Path | None,
        prompts: Sequence[str],
        references: Sequence[str],
    ) -> ArmResults:
        adapter = AdapterSpec(f"eval:{adapter_dir.name}", adapter_dir) if adapter_dir is not None else None
        if adapter is not None:
            await self._engine.load_adapter(adapter)
        try:
            answers = await greedy_answers(
                self._engine,
                prompts,
                adapter,
                batch_size=self._settings.eval_batch_size,
                max_tokens=self._settings.eval_max_new_tokens,
                request_prefix=f"{eval_id}:{arm}",
            )
        finally:
            if adapter is not None:
                await self._engine.unload_adapter(adapter.name)
        scores = await asyncio.to_thread(
            lambda: [example_scores(answer, reference) for answer, reference in zip(answers, references, strict=True)]
        )
        log.info("arm answered", extra={"eval_id": eval_id, "arm": arm, "adapter_version": version})
        return ArmResults(answers, scores)

    def _completed_event(
        self,
        eval_id: str,
        completed: TrainingCompletedV1,
        version: str,
        production: ProductionVersion,
        baseline: ArmResults,
        candidate: ArmResults,
        deltas: Mapping[str, Any],
        verdict: GateVerdict,
    ) -> EvalCompletedV1:
        return EvalCompletedV1(
            eval_id=eval_id,
            tenant=completed.tenant,
            model_name=completed.model_name,
            adapter_version=version,
            dataset=completed.dataset or "",
            dataset_version=completed.dataset_version or "",
            metrics=mean_scores(candidate.scores) if candidate.scores else {},
            gate_passed=verdict.passed,
            gate_reasons=verdict.reasons,
            job_id=completed.job_id,
            subject="adapter",
            baseline_adapter_version=production.version,
            baseline_metrics=mean_scores(baseline.scores) if baseline.scores else {},
            deltas=dict(deltas),
            primary_metric=self._settings.policy_for(completed.model_name).gate.primary_metric,
            examples=len(candidate.scores),
        )

    def _with_report(self, event: EvalCompletedV1, report: ReportInputs) -> EvalCompletedV1:
        chart = self._artifacts.put_bytes(render_chart(report.deltas)) if report.deltas else None
        inputs = dataclasses.replace(report, chart_link=chart.uri if chart else None)
        markdown = self._artifacts.put_bytes(render_markdown(inputs).encode())
        return event.model_copy(update={"report": markdown, "report_chart": chart})

    def _canary(
        self,
        completed: TrainingCompletedV1,
        version: str,
        adapter: ArtifactRef,
        production: ProductionVersion,
        policy: ModelEvalPolicy,
    ) -> ModelCanaryStartedV1:
        return ModelCanaryStartedV1(
            model_name=completed.model_name,
            changed_by="evaluator",
            changed_at=datetime.now(UTC),
            base_model=completed.base_model,
            stable_adapter_version=production.version,
            stable_adapter=production.adapter,
            candidate_adapter_version=version,
            candidate_adapter=adapter,
            candidate_percent=policy.canary_percent,
            owner_tenant=completed.tenant,
            shared=policy.shared,
        )


def _samples(examples: Sequence[EvalExample], baseline: Sequence[str], candidate: Sequence[str]) -> list[ExampleSample]:
    return [
        ExampleSample(example.messages[-1][1], example.reference, base, cand)
        for example, base, cand in zip(examples[:5], baseline, candidate, strict=False)
    ]
