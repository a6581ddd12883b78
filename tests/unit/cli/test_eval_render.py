"""How `llmops eval` shows evaluation runs: the table's cells and a run's summary."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console, RenderableType

from llmops_common.cli.eval_render import evaluation_summary, primary_text, versus_text
from llmops_common.events import EvalCompletedV1, MetricDelta

AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def text_of(renderable: RenderableType) -> str:
    console = Console(width=200, force_terminal=False)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def evaluation(**changes: object) -> EvalCompletedV1:
    fields: dict[str, object] = {
        "eval_id": "e1",
        "tenant": "acme",
        "model_name": "bot",
        "adapter_version": "v2",
        "baseline_adapter_version": "v1",
        "dataset": "faq",
        "dataset_version": "0123456789abcdef",
        "metrics": {"rougeL": 0.41, "bleu": 0.2},
        "baseline_metrics": {"rougeL": 0.38},
        "deltas": {"rougeL": MetricDelta(mean=0.031, low=-0.002, high=0.05)},
        "primary_metric": "rougeL",
        "gate_passed": False,
        "gate_reasons": ["rougeL: the interval includes 0"],
        "examples": 120,
    }
    return EvalCompletedV1.model_validate(fields | changes)


def test_the_candidate_is_an_adapter_or_a_prompt_version() -> None:
    assert versus_text(evaluation()) == "v2 vs v1"
    prompt = evaluation(subject="prompt", prompt_name="greet", prompt_version=3, baseline_adapter_version=None)
    assert versus_text(prompt) == "prompt greet v3 vs -"


def test_the_primary_metric_shows_its_delta_and_interval_or_else_its_value() -> None:
    assert primary_text(evaluation()) == "rougeL +0.0310 [-0.0020, +0.0500]"
    assert primary_text(evaluation(primary_metric="bleu")) == "bleu 0.2000"
    assert primary_text(evaluation(primary_metric=None)) == "-"


def test_a_summary_lists_metrics_against_the_baseline_and_the_gate_reasons() -> None:
    text = text_of(evaluation_summary(evaluation(), AT))
    # The header row is drawn with heavy bars (┃), so only the body rows split on │.
    lines = [line.split("│") for line in text.splitlines() if line.count("│") == 5]
    rows = [[cell.strip() for cell in line[1:5]] for line in lines]
    assert text.splitlines()[0] == (
        "e1: bot v2 vs v1 on faq@0123456789ab, gate failed at 2025-03-04 05:06:07 UTC, 120 examples"
    )
    assert rows == [
        ["bleu", "0.2000", "-", "-"],
        ["rougeL *", "0.4100", "0.3800", "+0.0310 [-0.0020, +0.0500]"],
    ]
    assert text.endswith("gate reasons:\n  - rougeL: the interval includes 0\n")
