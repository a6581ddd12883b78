"""Prompts are gated like models: a version that gets the `staging` label is scored against `production`.

When a label move of `LLMOPS_PROMPT_EVAL_LABEL` (`staging`) to version V of prompt P of tenant T reaches
the evaluator (see `live_moves.py` for which moves count), and its replica of `llmops.prompts` has applied
it and the registry's rules accepted it (`prompt_replica.py`), the evaluator:

1. takes the version that `LLMOPS_PROMPT_BASELINE_LABEL` (`production`) points at as the baseline;
2. reads the eval set, the latest sealed version of tenant T's dataset `prompt-P`
   (`LLMOPS_PROMPT_EVAL_DATASET_PREFIX`): each row's metadata holds the variables, its completion the
   reference (`prompt_examples.py`);
3. renders every row through both versions, serves each on the model its `parameters.model` names
   (`prompt_arms.py`), answers greedily and scores with the metrics, paired bootstrap and gate of an
   adapter evaluation, under the policy of the candidate's model;
4. publishes `eval.completed` with `subject="prompt"` and its report (`prompt_outcome.py`).

Nothing is promoted: the gate's verdict tells the team whether to move `production`. Without an eval set
the result fails with the reason "no eval set: ..." and 0 examples. Without a baseline (no version has
`production`, or V has it already) V is scored alone and fails with a "no baseline: ..." reason: there
is no earlier version it was meant to beat, and "V-1" may never have served anyone.

The eval id comes from the move's `change_id`, and an evaluation is kept before it is published, so a
second copy of the move re-publishes the result and scores nothing again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from llmops_common.dataset_rows import read_dataset_rows
from llmops_common.events import DatasetSealedV1, EvalCompletedV1, PromptLabelMovedV1, PromptVersionCreatedV1
from llmops_common.events.base import ArtifactRef

from .bootstrap import paired_deltas
from .gate import GateVerdict, judge
from .parts import EvaluationParts
from .production import BARE_BASE, ProductionVersion
from .prompt_arms import ServedArm, answer_and_score, prompt_perplexities
from .prompt_examples import PromptExample, prompt_examples
from .prompt_outcome import (
    PromptRun,
    compared_reason,
    completed_event,
    left_out_reason,
    no_baseline_reason,
    no_eval_set_reason,
    prompt_eval_id,
    with_report,
)
from .prompt_replica import EvaluatorPrompts
from .service import ArmResults
from .store import EvalOutcome

log = logging.getLogger(__name__)


class PromptGate:
    """Evaluates prompt versions as they get the eval label, and publishes each result once."""

    def __init__(self, parts: EvaluationParts, base_model_name: str, prompts: EvaluatorPrompts) -> None:
        self._settings, self._engine, self._store = parts.settings, parts.engine, parts.store
        self._datasets, self._production = parts.datasets, parts.production
        self._artifacts, self._publisher = parts.artifacts, parts.publisher
        self._base_model_name = base_model_name
        self._prompts = prompts.replica
        self._moves = prompts.moves

    async def handle(self, move: PromptLabelMovedV1, event_id: str) -> EvalOutcome | None:
        """Evaluates the version a move of the eval label points at, unless it was evaluated before, and
        publishes the result; a move of another label, or one the registry's rules rejected, is ignored."""
        if move.label != self._settings.prompt_eval_label:
            return None
        eval_id = prompt_eval_id(move)
        outcome = self._store.outcome(eval_id)
        if outcome is None:
            if not await self._applied(move, event_id):
                log.info("label move rejected by the registry's rules", extra={"eval_id": eval_id})
                return None
            outcome = EvalOutcome(await self._evaluate(eval_id, move), None)
            self._store.keep(outcome)
            log.info("prompt evaluated", extra={"eval_id": eval_id, "gate_passed": outcome.completed.gate_passed})
        await self._publisher.publish(outcome.completed)
        return outcome

    async def _applied(self, move: PromptLabelMovedV1, event_id: str) -> bool:
        # The replica reads the topic on its own, so it may not have reached this move yet.
        if self._moves.applied(move.change_id) is None:
            await self._prompts.topic.wait_applied(event_id, self._settings.prompt_replica_wait_seconds)
        return self._moves.applied(move.change_id) is True

    async def _evaluate(self, eval_id: str, move: PromptLabelMovedV1) -> EvalCompletedV1:
        catalog = self._prompts.catalog
        candidate = catalog.get(move.tenant, move.name, version=move.version)
        baseline_number = catalog.history(move.tenant, move.name).labels.get(self._settings.prompt_baseline_label)
        baseline = (
            catalog.get(move.tenant, move.name, version=baseline_number)
            if baseline_number is not None and baseline_number != move.version
            else None
        )
        model_name, production = self._served_model(candidate)
        dataset = f"{self._settings.prompt_eval_dataset_prefix}{move.name}"
        sealed = self._datasets.find(move.tenant, dataset, "latest")
        run = PromptRun(
            eval_id,
            move,
            model_name,
            production.version,
            dataset,
            sealed.version if sealed else "",
            self._settings.policy_for(model_name).gate.primary_metric,
        )
        log.info("evaluating prompt", extra={"eval_id": eval_id, "baseline_version": baseline_number})
        if sealed is None:
            verdict = GateVerdict(False, [no_eval_set_reason(move, dataset)])
            return with_report(self._artifacts, completed_event(run, None, None, {}, verdict), None, [], ([], None))
        return await self._scored(run, sealed, candidate, baseline, baseline_number)

    async def _scored(
        self,
        run: PromptRun,
        sealed: DatasetSealedV1,
        candidate: PromptVersionCreatedV1,
        baseline: PromptVersionCreatedV1 | None,
        baseline_number: int | None,
    ) -> EvalCompletedV1:
        versions = [candidate] if baseline is None else [candidate, baseline]
        rows = read_dataset_rows(self._artifacts.get_bytes(sealed.artifact))
        compiled = [self._prompts.renderer.compiled(version) for version in versions]
        cases = prompt_examples(rows, compiled, limit=self._settings.eval_max_examples)
        arms = [
            self._arm(name, version, cases.examples, index)
            for index, (name, version) in enumerate(zip(("candidate", "baseline"), versions, strict=False))
        ]
        results = await self._answers(run.eval_id, arms, [example.reference for example in cases.examples])
        gate = self._settings.policy_for(run.candidate_model).gate
        examples = len(cases.examples)
        if baseline is None:
            deltas = {}
            verdict = GateVerdict(
                False, [no_baseline_reason(run.move, self._settings.prompt_baseline_label, baseline_number)]
            )
        else:
            scores = (results[0].scores, results[1].scores)
            deltas = paired_deltas(*scores, resamples=gate.resamples, seed=gate.seed) if examples else {}
            verdict = judge(gate, deltas, examples)
        reasons = [
            compared_reason(run, arms[0], arms[1] if baseline else None, examples),
            *left_out_reason(run.dataset, cases.left_out),
            *verdict.reasons,
        ]
        baseline_results = results[1] if baseline else None
        event = completed_event(run, results[0], baseline_results, deltas, GateVerdict(verdict.passed, reasons))
        answers = (results[0].answers, baseline_results.answers if baseline_results else None)
        return with_report(self._artifacts, event, baseline_number if baseline else None, cases.examples, answers)

    async def _answers(self, eval_id: str, arms: Sequence[ServedArm], references: list[str]) -> list[ArmResults]:
        results = [
            await answer_and_score(
                self._engine,
                arm,
                references,
                batch_size=self._settings.eval_batch_size,
                request_prefix=f"{eval_id}:{arm.name}",
            )
            for arm in arms
        ]
        if references:
            perplexities = await asyncio.to_thread(
                prompt_perplexities,
                self._engine.base_model,
                arms,
                references,
                batch_size=self._settings.eval_batch_size,
            )
            for result, arm_perplexities in zip(results, perplexities, strict=True):
                for scores, perplexity in zip(result.scores, arm_perplexities, strict=True):
                    scores["perplexity"] = perplexity
        return results

    def _served_model(self, version: PromptVersionCreatedV1) -> tuple[str, ProductionVersion]:
        model = version.parameters.model or self._base_model_name
        return model, BARE_BASE if model == self._base_model_name else self._production.of(model)

    def _arm(
        self, name: str, version: PromptVersionCreatedV1, examples: Sequence[PromptExample], index: int
    ) -> ServedArm:
        model, production = self._served_model(version)
        cap = self._settings.eval_max_new_tokens
        return ServedArm(
            name=name,
            prompt_version=version.version,
            model_name=model,
            adapter_version=production.version,
            adapter_dir=self._adapter_folder(production.adapter) if production.adapter else None,
            max_tokens=min(version.parameters.max_tokens or cap, cap),
            prompts=[self._engine.tokenizer.render_chat(example.chats[index]) for example in examples],
        )

    def _adapter_folder(self, ref: ArtifactRef) -> Path:
        folder = self._settings.state_dir / "adapters" / ref.sha256
        if not folder.exists():
            self._artifacts.fetch_folder(ref, folder)
        return folder
