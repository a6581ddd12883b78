"""Auto-retrain fine-tunes a LoRA adapter on the sealed corrections, and the evaluator
scores it against production on the held-out rows, then gates it."""

from __future__ import annotations

import asyncio

from rich.table import Table

from ..events import (
    DatasetSealedV1,
    EvalCompletedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)
from .session import Session

TRAIN_TIMEOUT = 600.0
EVAL_TIMEOUT = 300.0
SHOWN_METRICS = ("token_f1", "rougeL", "exact_match", "chrf", "perplexity")


async def trained_adapter(session: Session, sealed: DatasetSealedV1) -> TrainingCompletedV1:
    """Waits for the job auto-retrain asks for on `sealed`, showing its steps and loss as they come."""
    events = session.events
    request = await events.first(TrainingRequestedV1, lambda e: e.dataset_version == sealed.version, 60)
    session.story.say(f"{request.requested_by} asked for job {request.job_id}: {request.reason or 'new data'}")
    job = request.job_id
    with session.story.progress() as progress:
        task = progress.add_task("LoRA steps", total=int(request.hyperparameters.get("max_steps", 0)) or None)
        async with asyncio.timeout(TRAIN_TIMEOUT):
            while (completed := events.latest(TrainingCompletedV1, lambda e: e.job_id == job)) is None:
                step = events.latest(TrainingProgressV1, lambda e: e.job_id == job)
                if step is not None:
                    loss = f"loss {step.loss:.3f}" if step.loss is not None else ""
                    progress.update(task, total=step.total_steps, completed=step.step, description=f"LoRA steps {loss}")
                await events.changed(1.0)
        if completed.steps is not None:
            progress.update(task, total=completed.steps, completed=completed.steps)
    if completed.status != "succeeded":
        raise RuntimeError(f"the fine-tune failed: {completed.error}")
    session.story.say(
        f"adapter [bold]{completed.adapter_version}[/] trained in {completed.duration_seconds:.0f} s and stored "
        f"at {completed.adapter.uri if completed.adapter else '?'}"
    )
    return completed


async def evaluation(session: Session, trained: TrainingCompletedV1) -> EvalCompletedV1:
    """The evaluator's verdict on the adapter: metrics of both arms with 95% intervals of the difference."""
    with session.story.progress() as progress:
        progress.add_task("greedy answers of both arms on the held-out rows, scored", total=None)
        evaluated = await session.events.first(
            EvalCompletedV1, lambda e: e.adapter_version == trained.adapter_version, EVAL_TIMEOUT
        )
    table = Table(title=f"{evaluated.examples} held-out questions, adapter against production", title_justify="left")
    for column in ("metric", "production", "adapter", "difference (95% interval)"):
        table.add_column(column)
    for name in SHOWN_METRICS:
        if name in evaluated.metrics and name in evaluated.deltas:
            delta = evaluated.deltas[name]
            table.add_row(
                name,
                f"{evaluated.baseline_metrics.get(name, float('nan')):.3f}",
                f"{evaluated.metrics[name]:.3f}",
                f"{delta.mean:+.3f} ({delta.low:+.3f} to {delta.high:+.3f})",
            )
    session.story.show(table)
    verdict = "[green]passed" if evaluated.gate_passed else "[red]failed: " + "; ".join(evaluated.gate_reasons)
    session.story.say(f"the promotion gate {verdict}")
    if not evaluated.gate_passed:
        raise RuntimeError("the gate refused the adapter; the rest of the story needs a better model")
    return evaluated
