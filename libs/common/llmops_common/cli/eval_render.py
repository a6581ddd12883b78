"""How evaluations look on the console: a table of runs, and one run's metrics and gate verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..events import EvalCompletedV1, MetricDelta

SHORT_HASH = 12
"""Characters of a dataset version hash shown; enough to tell versions apart."""


def candidate_text(event: EvalCompletedV1) -> str:
    """What was scored: a prompt version, or an adapter version."""
    if event.subject == "prompt":
        return f"prompt {event.prompt_name or '-'} v{event.prompt_version if event.prompt_version is not None else '-'}"
    return event.adapter_version or "-"


def versus_text(event: EvalCompletedV1) -> str:
    """The candidate against production's version when it was scored."""
    return f"{candidate_text(event)} vs {event.baseline_adapter_version or '-'}"


def dataset_text(event: EvalCompletedV1) -> str:
    """The dataset and its version's short hash."""
    return f"{event.dataset}@{event.dataset_version[:SHORT_HASH]}"


def interval_text(delta: MetricDelta) -> str:
    """A paired difference with its 95% interval: `+0.0310 [+0.0120, +0.0500]`."""
    return f"{delta.mean:+.4f} [{delta.low:+.4f}, {delta.high:+.4f}]"


def primary_text(event: EvalCompletedV1) -> str:
    """The primary metric's difference from the baseline with its interval, else its value."""
    name = event.primary_metric
    if name is None:
        return "-"
    if name in event.deltas:
        return f"{name} {interval_text(event.deltas[name])}"
    return f"{name} {event.metrics[name]:.4f}" if name in event.metrics else name


def gate_text(event: EvalCompletedV1) -> Text:
    """The promotion gate's verdict, coloured."""
    return Text("passed", style="green") if event.gate_passed else Text("failed", style="red")


def time_text(at: datetime) -> str:
    """A time in UTC to the second."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def evaluations_table(runs: list[tuple[EvalCompletedV1, datetime]]) -> Table:
    """One row per evaluation run, oldest first, with the time it was published."""
    table = Table(
        "eval id", "model", "candidate vs baseline", "dataset", "primary metric Δ [95% CI]", "gate", "time (UTC)"
    )
    for event, at in runs:
        table.add_row(
            Text(event.eval_id),
            Text(event.model_name),
            Text(versus_text(event)),
            Text(dataset_text(event)),
            Text(primary_text(event)),
            gate_text(event),
            time_text(at),
        )
    return table


def evaluation_summary(event: EvalCompletedV1, at: datetime) -> RenderableType:
    """Without a report: what was scored, the metrics against the baseline, and the gate's reasons."""
    head = Text(f"{event.eval_id}: {event.model_name} {versus_text(event)} on {dataset_text(event)}, gate ")
    head.append_text(gate_text(event))
    head.append(f" at {time_text(at)} UTC" + (f", {event.examples} examples" if event.examples is not None else ""))
    metrics = Table("metric", "candidate", "baseline", "Δ [95% CI]", title="metrics (* primary)")
    for name in sorted(event.metrics.keys() | event.deltas.keys()):
        baseline = event.baseline_metrics.get(name)
        value = event.metrics.get(name)
        metrics.add_row(
            Text(name + (" *" if name == event.primary_metric else "")),
            "-" if value is None else f"{value:.4f}",
            "-" if baseline is None else f"{baseline:.4f}",
            interval_text(event.deltas[name]) if name in event.deltas else "-",
        )
    reasons = Text("gate reasons:\n" + "\n".join(f"  - {reason}" for reason in event.gate_reasons))
    return Group(head, metrics, reasons if event.gate_reasons else Text("gate reasons: none given"))
