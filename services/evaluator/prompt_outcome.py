"""What a prompt evaluation publishes: its `eval.completed` event, the sentences that explain it, its report.

A prompt result uses the adapter result's fields the same way: `subject` is "prompt", `prompt_name` and
`prompt_version` name the candidate, `model_name` and `adapter_version` the model it was served on,
`dataset` and `dataset_version` the eval set. The baseline is a prompt version, which the event has no
field for; `baseline_adapter_version` stays None, and the first gate reason names both versions and the
models they ran on, as the report does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmops_common.events import EvalCompletedV1, PromptLabelMovedV1
from llmops_common.events.training import MetricDelta
from llmops_common.storage.artifacts import ArtifactStore

from .gate import GateVerdict
from .metrics import mean_scores
from .prompt_arms import ServedArm
from .prompt_examples import PromptExample
from .report import ExampleSample, ReportInputs, render_chart, render_markdown
from .service import ArmResults

MAX_EVAL_ID = 128
"""The longest eval id the event takes."""
SHORT_HASH = 12
"""Characters of a dataset version hash shown in a sentence."""


def prompt_eval_id(move: PromptLabelMovedV1) -> str:
    """The evaluation's id, the same for every copy of the move: readable, or hashed when too long."""
    readable = f"eval-prompt-{move.tenant}-{move.name}-v{move.version}-{move.change_id}"
    if len(readable) <= MAX_EVAL_ID:
        return readable
    return f"eval-prompt-{hashlib.sha256(readable.encode()).hexdigest()}"


@dataclass(frozen=True)
class PromptRun:
    """What was compared, on what: the facts every outcome of one evaluation shares."""

    eval_id: str
    move: PromptLabelMovedV1
    candidate_model: str
    candidate_adapter: str | None
    dataset: str
    dataset_version: str
    primary_metric: str


def no_eval_set_reason(move: PromptLabelMovedV1, dataset: str) -> str:
    """Why a prompt without an eval set cannot pass."""
    return f"no eval set: dataset {dataset} of tenant {move.tenant} has no sealed version"


def no_baseline_reason(move: PromptLabelMovedV1, baseline_label: str, baseline_version: int | None) -> str:
    """Why a prompt without another version to compare with cannot pass."""
    if baseline_version is None:
        why = f"prompt {move.name} has no version labelled {baseline_label}"
    else:
        why = f"v{move.version} already carries the {baseline_label} label"
    return f"no baseline: {why}; v{move.version} is reported alone, with nothing to gate against: fail"


def compared_reason(run: PromptRun, candidate: ServedArm, baseline: ServedArm | None, examples: int) -> str:
    """The sentence that opens the reasons: which versions, on which models, over which examples."""
    eval_set = f"{examples} examples of {run.dataset}@{run.dataset_version[:SHORT_HASH]}"
    if baseline is None:
        return f"prompt {run.move.name} v{candidate.prompt_version} on {candidate.served_on()}, over {eval_set}"
    if candidate.served_on() == baseline.served_on():
        models = f"both on {candidate.served_on()}"
    else:
        models = (
            f"v{candidate.prompt_version} on {candidate.served_on()}, "
            f"v{baseline.prompt_version} on {baseline.served_on()}"
        )
    return (
        f"prompt {run.move.name} v{candidate.prompt_version} against v{baseline.prompt_version}, {models}, "
        f"over {eval_set}"
    )


def left_out_reason(dataset: str, left_out: Sequence[str]) -> list[str]:
    """A sentence on the rows that could not be scored, naming the first; none when every row was."""
    if not left_out:
        return []
    rows = "1 row" if len(left_out) == 1 else f"{len(left_out)} rows"
    return [f"{rows} of {dataset} left out, not scorable by every version (first: {left_out[0]})"]


def completed_event(
    run: PromptRun,
    candidate: ArmResults | None,
    baseline: ArmResults | None,
    deltas: Mapping[str, MetricDelta],
    verdict: GateVerdict,
) -> EvalCompletedV1:
    """The result as published; `candidate` None when nothing was scored."""
    return EvalCompletedV1(
        eval_id=run.eval_id,
        tenant=run.move.tenant,
        model_name=run.candidate_model,
        adapter_version=run.candidate_adapter,
        dataset=run.dataset,
        dataset_version=run.dataset_version,
        metrics=mean_scores(candidate.scores) if candidate else {},
        gate_passed=verdict.passed,
        gate_reasons=verdict.reasons,
        subject="prompt",
        baseline_metrics=mean_scores(baseline.scores) if baseline else {},
        deltas=dict(deltas),
        primary_metric=run.primary_metric,
        examples=len(candidate.scores) if candidate else 0,
        prompt_name=run.move.name,
        prompt_version=run.move.version,
    )


def with_report(
    artifacts: ArtifactStore,
    event: EvalCompletedV1,
    baseline_version: int | None,
    examples: Sequence[PromptExample],
    answers: tuple[Sequence[str], Sequence[str] | None],
) -> EvalCompletedV1:
    """The event with its Markdown report (and the chart of its deltas, when it has any) stored."""
    candidate_answers, baseline_answers = answers
    samples = [
        ExampleSample(example.shown, example.reference, base, cand)
        for example, cand, base in zip(
            examples[:5], candidate_answers, baseline_answers or ["(no baseline)"] * len(examples), strict=False
        )
    ]
    inputs = ReportInputs(
        model_name=f"prompt {event.prompt_name}",
        eval_id=event.eval_id,
        candidate_version=f"v{event.prompt_version}",
        baseline_version=f"v{baseline_version}" if baseline_version is not None else "none",
        dataset=event.dataset,
        dataset_version=event.dataset_version or "none",
        examples=event.examples or 0,
        baseline_metrics=event.baseline_metrics,
        candidate_metrics=event.metrics,
        deltas=event.deltas,
        verdict=GateVerdict(event.gate_passed, event.gate_reasons),
        primary_metric=event.primary_metric,
        samples=samples,
    )
    chart = (
        artifacts.put_bytes(render_chart(event.deltas, title="Candidate prompt minus baseline prompt"))
        if event.deltas
        else None
    )
    report = render_markdown(dataclasses.replace(inputs, chart_link=chart.uri if chart else None))
    markdown = artifacts.put_bytes(report.encode())
    return event.model_copy(update={"report": markdown, "report_chart": chart})
