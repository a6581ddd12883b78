"""The evaluation report: the chart is a real PNG, and the Markdown shows every fact and reason."""

from __future__ import annotations

import io

import pytest
from matplotlib import image

from llmops_common.events.training import MetricDelta
from services.evaluator.gate import GateVerdict
from services.evaluator.report import ExampleSample, ReportInputs, render_chart, render_markdown

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DELTAS = {
    "token_f1": MetricDelta(mean=0.081, low=0.042, high=0.12),
    "bleu": MetricDelta(mean=-3.5, low=-7.25, high=0.5),
    "perplexity": MetricDelta(mean=-1.25, low=-2.0, high=-0.5),
}


def _decoded(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.ndim == 3
    return pixels.shape[0], pixels.shape[1]


def test_chart_is_a_png_with_one_row_per_metric() -> None:
    three_rows = _decoded(render_chart(DELTAS, title="support-bot: v3 vs v2"))
    one_row = _decoded(render_chart({"token_f1": DELTAS["token_f1"]}, title="one"))
    assert three_rows[1] == one_row[1] == 700
    assert three_rows[0] > one_row[0]


def test_chart_draws_without_metrics_and_with_odd_values() -> None:
    _decoded(render_chart({}, title="nothing measured"))
    _decoded(
        render_chart(
            {
                "exact_match": MetricDelta(mean=0.0, low=0.0, high=0.0),
                "rougeL": MetricDelta(mean=float("nan"), low=float("nan"), high=float("nan")),
                "skewed": MetricDelta(mean=0.1, low=0.12, high=0.3),
            }
        )
    )


def _inputs(**changes: object) -> ReportInputs:
    fields: dict[str, object] = {
        "model_name": "support-bot",
        "eval_id": "eval-42",
        "candidate_version": "v3",
        "baseline_version": "v2",
        "dataset": "support-faq",
        "dataset_version": "7",
        "examples": 40,
        "baseline_metrics": {"token_f1": 0.412, "bleu": 30.0, "perplexity": 12.5, "length_ratio": 1.1},
        "candidate_metrics": {"token_f1": 0.493, "bleu": 26.5, "perplexity": 11.25, "length_ratio": 0.9},
        "deltas": DELTAS,
        "verdict": GateVerdict(passed=True, reasons=["40 examples, the gate needs 20: pass", "token_f1 fine: pass"]),
        "primary_metric": "token_f1",
    }
    fields.update(changes)
    return ReportInputs(**fields)  # type: ignore[arg-type]


def test_markdown_header_table_and_verdict() -> None:
    markdown = render_markdown(_inputs(chart_link="eval-42.png"))
    head = markdown.split("## Sample")[0]
    assert head == (
        "# Evaluation of support-bot: eval-42\n"
        "\n"
        "| | |\n"
        "|---|---|\n"
        "| candidate | `v3` |\n"
        "| baseline (production) | `v2` |\n"
        "| dataset | `support-faq` version `7` |\n"
        "| examples | 40 |\n"
        "| gate | **passed** |\n"
        "\n"
        "## Metrics\n"
        "\n"
        "Deltas are candidate minus baseline over the same examples, with paired bootstrap 95% intervals. "
        "BLEU and chrF use sacrebleu's 0-100 scale; lower perplexity is better; length_ratio is reported only.\n"
        "\n"
        "| metric | baseline | candidate | delta | 95% CI |\n"
        "|---|---:|---:|---:|---:|\n"
        "| **token_f1** (primary) | 0.412 | 0.493 | +0.081 | +0.042..+0.120 |\n"
        "| bleu | 30.000 | 26.500 | -3.500 | -7.250..+0.500 |\n"
        "| length_ratio | 1.100 | 0.900 | n/a | n/a |\n"
        "| perplexity | 12.500 | 11.250 | -1.250 | -2.000..-0.500 |\n"
        "\n"
        "![Candidate minus baseline, per metric](eval-42.png)\n"
        "\n"
        "## Gate: passed\n"
        "\n"
        "- 40 examples, the gate needs 20: pass\n"
        "- token_f1 fine: pass\n"
    )


def test_markdown_failed_gate_and_base_model_baseline() -> None:
    verdict = GateVerdict(passed=False, reasons=["only 3 examples, the gate needs 20: fail"])
    markdown = render_markdown(_inputs(baseline_version=None, verdict=verdict, examples=3))
    assert "| baseline (production) | the base model (no adapter) |\n" in markdown
    assert "| gate | **failed** |\n" in markdown
    assert "## Gate: failed\n\n- only 3 examples, the gate needs 20: fail\n" in markdown
    assert "![" not in markdown
    assert "## Sample" not in markdown


def test_markdown_escapes_pipes_in_cells() -> None:
    markdown = render_markdown(_inputs(dataset="faq|v", baseline_metrics={"a|b": 1.0}, candidate_metrics={}))
    assert "| dataset | `faq\\|v` version `7` |\n" in markdown
    assert "| a\\|b | 1.000 | n/a | n/a | n/a |\n" in markdown


def test_markdown_samples_are_capped_truncated_and_fenced() -> None:
    samples = [
        ExampleSample(
            prompt=f"question {i} " + "x" * 50,
            reference="the answer",
            baseline_answer="uses ```code``` here",
            candidate_answer="short",
        )
        for i in range(4)
    ]
    markdown = render_markdown(_inputs(samples=samples), max_samples=2, max_chars=20)
    tail = markdown.split("## Gate: passed\n")[1]
    assert tail == (
        "\n- 40 examples, the gate needs 20: pass\n- token_f1 fine: pass\n"
        "\n## Sample of examples (2 of 40)\n"
        + "".join(
            f"\n### Example {i + 1}\n"
            f"\n**Prompt**\n\n```text\nquestion {i} xxxxxxxxx …\n```\n"
            "\n**Reference**\n\n```text\nthe answer\n```\n"
            "\n**Baseline answer**\n\n````text\nuses ```code``` here\n````\n"
            "\n**Candidate answer**\n\n```text\nshort\n```\n"
            for i in range(2)
        )
    )


@pytest.mark.parametrize("max_samples", [0, 10])
def test_markdown_sample_count(max_samples: int) -> None:
    samples = [ExampleSample("p", "r", "b", "c")] * 3
    markdown = render_markdown(_inputs(samples=samples), max_samples=max_samples)
    assert markdown.count("### Example") == min(max_samples, 3)
