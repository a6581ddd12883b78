"""The evaluation report: a PNG of the paired metric differences, and a Markdown page around it."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmops_common.events.training import MetricDelta

from .gate import GateVerdict
from .metrics import LOWER_IS_BETTER, METRIC_NAMES, REPORTED_ONLY

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_BETTER, _WORSE, _UNSURE = "tab:green", "tab:red", "tab:gray"


def _ordered(names: Iterable[str]) -> list[str]:
    """The known metrics in vocabulary order, then any others alphabetically."""
    present = set(names)
    return [n for n in METRIC_NAMES if n in present] + sorted(present - set(METRIC_NAMES))


def _colour(name: str, delta: MetricDelta) -> str:
    if name in REPORTED_ONLY:
        return _UNSURE
    low, high = (-delta.high, -delta.low) if name in LOWER_IS_BETTER else (delta.low, delta.high)
    return _BETTER if low > 0 else _WORSE if high < 0 else _UNSURE


def render_chart(deltas: Mapping[str, MetricDelta], *, title: str = "Candidate minus baseline") -> bytes:
    """A PNG with one row per metric: the mean difference (candidate minus baseline) as a dot, its 95%
    interval as an error bar, and a zero line.

    Each row has its own x scale, centred on zero, because the metrics' scales differ by a hundredfold
    (BLEU and chrF are 0-100, F1 and ROUGE 0-1). A row is green when the whole interval is on the better
    side of zero, red when it is on the worse side, grey otherwise.
    """
    # Figure without pyplot: no global backend or figure registry, so it draws on servers and in threads.
    from matplotlib.figure import Figure

    names = _ordered(deltas)
    rows = max(len(names), 1)
    figure = Figure(figsize=(7.0, 0.75 * rows + 1.2), layout="constrained")
    axes: list[Axes] = list(figure.subplots(rows, 1, squeeze=False)[:, 0])
    if not names:
        axes[0].text(0.5, 0.5, "no metrics", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
    for axis, name in zip(axes, names, strict=False):
        _draw_row(axis, name, deltas[name])
    figure.suptitle(
        f"{title}\n(95% intervals, each row on its own scale; green: better, red: worse, grey: unclear)",
        fontsize="medium",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _draw_row(axis: Axes, name: str, delta: MetricDelta) -> None:
    axis.axvline(0.0, color="black", linewidth=0.8)
    axis.set_yticks([0.0], [name])
    axis.set_ylim(-1.0, 1.0)
    values = (delta.mean, delta.low, delta.high)
    if not all(math.isfinite(v) for v in values):
        axis.text(0.5, 0.0, "not a number", ha="center", va="center", transform=axis.get_yaxis_transform())
        return
    # A percentile interval can sit just beside a skewed mean; error bars must not be negative.
    below, above = max(delta.mean - delta.low, 0.0), max(delta.high - delta.mean, 0.0)
    colour = _colour(name, delta)
    axis.errorbar([delta.mean], [0.0], xerr=[[below], [above]], fmt="o", color=colour, capsize=5)
    span = max(abs(delta.low), abs(delta.high), abs(delta.mean)) * 1.25 or 1.0
    axis.set_xlim(-span, span)
    axis.annotate(f"{delta.mean + 0.0:+.3g}", (delta.mean, 0.0), xytext=(0, 7), textcoords="offset points", ha="center")
    axis.grid(axis="x", alpha=0.3)


@dataclass(frozen=True)
class ExampleSample:
    """One held-out example with both models' greedy answers, shown in the report."""

    prompt: str
    reference: str
    baseline_answer: str
    candidate_answer: str


@dataclass(frozen=True)
class ReportInputs:
    """Everything the Markdown report shows about one evaluation run.

    `baseline_version` is None when production serves the base model without an adapter; `chart_link`,
    when given, is where the chart's PNG can be fetched from, and the report embeds it.
    """

    model_name: str
    eval_id: str
    candidate_version: str
    baseline_version: str | None
    dataset: str
    dataset_version: str
    examples: int
    baseline_metrics: Mapping[str, float]
    candidate_metrics: Mapping[str, float]
    deltas: Mapping[str, MetricDelta]
    verdict: GateVerdict
    primary_metric: str | None = None
    samples: Sequence[ExampleSample] = ()
    chart_link: str | None = None


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _number(values: Mapping[str, float], name: str) -> str:
    return f"{values[name]:.3f}" if name in values else "n/a"


def _signed(value: float) -> str:
    return f"{value + 0.0:+.3f}"


def _metrics_table(inputs: ReportInputs) -> list[str]:
    lines = ["| metric | baseline | candidate | delta | 95% CI |", "|---|---:|---:|---:|---:|"]
    names = _ordered({*inputs.baseline_metrics, *inputs.candidate_metrics, *inputs.deltas})
    for name in names:
        label = f"**{name}** (primary)" if name == inputs.primary_metric else name
        delta = inputs.deltas.get(name)
        change = _signed(delta.mean) if delta else "n/a"
        interval = f"{_signed(delta.low)}..{_signed(delta.high)}" if delta else "n/a"
        baseline, candidate = _number(inputs.baseline_metrics, name), _number(inputs.candidate_metrics, name)
        lines.append(f"| {_cell(label)} | {baseline} | {candidate} | {change} | {interval} |")
    return lines


def _truncated(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars].rstrip() + " …"


def _fenced(text: str) -> list[str]:
    # A fence longer than any run of backticks inside, so the text cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text, fence]


def _sample_lines(inputs: ReportInputs, max_samples: int, max_chars: int) -> list[str]:
    shown = inputs.samples[:max_samples]
    if not shown:
        return []
    lines = ["", f"## Sample of examples ({len(shown)} of {inputs.examples})"]
    for number, sample in enumerate(shown, start=1):
        lines += ["", f"### Example {number}"]
        for label, text in (
            ("Prompt", sample.prompt),
            ("Reference", sample.reference),
            ("Baseline answer", sample.baseline_answer),
            ("Candidate answer", sample.candidate_answer),
        ):
            lines += ["", f"**{label}**", "", *_fenced(_truncated(text, max_chars))]
    return lines


def render_markdown(inputs: ReportInputs, *, max_samples: int = 5, max_chars: int = 400) -> str:
    """The report as Markdown: the run's facts, the metric table, the gate's verdict with every reason,
    and up to `max_samples` examples, each text cut at `max_chars` characters."""
    verdict = "passed" if inputs.verdict.passed else "failed"
    baseline = f"`{inputs.baseline_version}`" if inputs.baseline_version else "the base model (no adapter)"
    lines = [
        f"# Evaluation of {inputs.model_name}: {inputs.eval_id}",
        "",
        "| | |",
        "|---|---|",
        f"| candidate | `{_cell(inputs.candidate_version)}` |",
        f"| baseline (production) | {_cell(baseline)} |",
        f"| dataset | `{_cell(inputs.dataset)}` version `{_cell(inputs.dataset_version)}` |",
        f"| examples | {inputs.examples} |",
        f"| gate | **{verdict}** |",
        "",
        "## Metrics",
        "",
        "Deltas are candidate minus baseline over the same examples, with paired bootstrap 95% intervals. "
        "BLEU and chrF use sacrebleu's 0-100 scale; lower perplexity is better; length_ratio is reported only.",
        "",
        *_metrics_table(inputs),
    ]
    if inputs.chart_link:
        lines += ["", f"![Candidate minus baseline, per metric]({inputs.chart_link})"]
    lines += ["", f"## Gate: {verdict}", "", *(f"- {reason}" for reason in inputs.verdict.reasons)]
    lines += _sample_lines(inputs, max_samples, max_chars)
    return "\n".join(lines) + "\n"
