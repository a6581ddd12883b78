"""`llmops eval list|show` against the real broker and a real artifact store folder.

The evaluation events name a report and a chart put in the store that the test's settings open, the
same one the CLI opens from LLMOPS_DATA_DIR. Each test keeps to its own tenant on the shared topic.
"""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from llmops_common.cli.main import app
from llmops_common.events import EvalCompletedV1, MetricDelta
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store

REPORT = """# Evaluation of support-bot v2

The candidate beats production on **rougeL**.

- examples: 120
- gate: passed
"""


@pytest.fixture(autouse=True)
def cli_settings(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI reads its settings from the environment: the test's broker, data folder and artifact store."""
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    monkeypatch.setenv("LLMOPS_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("LLMOPS_ARTIFACT_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def one_pixel_png() -> bytes:
    """A valid 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


async def llmops(*args: str) -> Result:
    """Runs the command in a thread: it runs an event loop of its own."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(app, list(args)))


def table_rows(result: Result) -> list[list[str]]:
    """The body rows of the rich table printed (its header is drawn with heavy bars)."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]


async def published_runs(settings: PlatformSettings, unique: str) -> tuple[EvalCompletedV1, EvalCompletedV1]:
    """A passed adapter run with a report and a chart, then a failed one with neither."""
    store = open_artifact_store(settings)
    common = {
        "tenant": f"t-{unique}",
        "dataset": "faq",
        "dataset_version": "0123456789abcdef0123",
        "baseline_adapter_version": "v1",
        "primary_metric": "rougeL",
        "examples": 120,
    }
    passed = EvalCompletedV1.model_validate(
        common
        | {
            "eval_id": f"eval-a-{unique}",
            "model_name": "support-bot",
            "adapter_version": "v2",
            "metrics": {"rougeL": 0.41},
            "baseline_metrics": {"rougeL": 0.38},
            "deltas": {"rougeL": MetricDelta(mean=0.031, low=0.012, high=0.05)},
            "gate_passed": True,
            "report": store.put_bytes(REPORT.encode()),
            "report_chart": store.put_bytes(one_pixel_png()),
        }
    )
    failed = EvalCompletedV1.model_validate(
        common
        | {
            "eval_id": f"eval-b-{unique}",
            "model_name": "sales-bot",
            "adapter_version": "v9",
            "metrics": {"rougeL": 0.30, "bleu": 0.2},
            "baseline_metrics": {"rougeL": 0.31},
            "deltas": {"rougeL": MetricDelta(mean=-0.01, low=-0.03, high=0.004)},
            "gate_passed": False,
            "gate_reasons": ["rougeL: the interval includes 0"],
        }
    )
    for event in (passed, failed):
        await publish_once(settings, event, source="test")
    return passed, failed


async def test_list_shows_each_run_with_its_delta_and_verdict(settings: PlatformSettings, unique: str) -> None:
    passed, failed = await published_runs(settings, unique)

    everything = await llmops("eval", "list", "--tenant", f"t-{unique}")
    one_model = await llmops("eval", "list", "--tenant", f"t-{unique}", "--model", "sales-bot")
    nothing = await llmops("eval", "list", "--tenant", f"t-{unique}", "--model", "nobody")

    assert everything.exit_code == 0, everything.output
    rows = table_rows(everything)
    assert [row[:6] for row in rows] == [
        [passed.eval_id, "support-bot", "v2 vs v1", "faq@0123456789ab", "rougeL +0.0310 [+0.0120, +0.0500]", "passed"],
        [failed.eval_id, "sales-bot", "v9 vs v1", "faq@0123456789ab", "rougeL -0.0100 [-0.0300, +0.0040]", "failed"],
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[6]) for row in rows)
    assert [row[0] for row in table_rows(one_model)] == [failed.eval_id]
    assert (nothing.exit_code, nothing.stdout) == (0, "no evaluations match\n")


async def test_show_prints_the_report_and_writes_the_chart(
    settings: PlatformSettings, unique: str, tmp_path: Path
) -> None:
    passed, _ = await published_runs(settings, unique)

    result = await llmops("eval", "show", passed.eval_id)
    elsewhere = await llmops("eval", "show", passed.eval_id, "--png", str(tmp_path / "charts" / "run.png"))

    assert result.exit_code == 0, result.output
    assert "Evaluation of support-bot v2" in result.stdout
    assert "The candidate beats production on rougeL." in result.stdout
    assert "• examples: 120" in result.stdout
    assert "#" not in result.stdout  # rendered, not the Markdown source
    assert result.stdout.splitlines()[-1] == f"chart written to {passed.eval_id}.png"
    assert (tmp_path / f"{passed.eval_id}.png").read_bytes() == one_pixel_png()
    assert elsewhere.exit_code == 0, elsewhere.output
    assert elsewhere.stdout.splitlines()[-1] == f"chart written to {tmp_path / 'charts' / 'run.png'}"
    assert (tmp_path / "charts" / "run.png").read_bytes() == one_pixel_png()


async def test_show_without_a_report_prints_the_metrics_and_gate_reasons(
    settings: PlatformSettings, unique: str, tmp_path: Path
) -> None:
    _, failed = await published_runs(settings, unique)

    result = await llmops("eval", "show", failed.eval_id)
    asked_for_png = await llmops("eval", "show", failed.eval_id, "--png", "chart.png")

    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == (
        f"{failed.eval_id}: sales-bot v9 vs v1 on faq@0123456789ab, gate failed at "
        + re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[0])[0]
        + " UTC, 120 examples"
    )
    assert table_rows(result) == [
        ["bleu", "0.2000", "-", "-"],
        ["rougeL *", "0.3000", "0.3100", "-0.0100 [-0.0300, +0.0040]"],
    ]
    assert lines[-2:] == ["gate reasons:", "  - rougeL: the interval includes 0"]
    assert not (tmp_path / f"{failed.eval_id}.png").exists()
    assert asked_for_png.exit_code == 1
    assert asked_for_png.stderr == f"error: evaluation {failed.eval_id} has no chart to write to chart.png\n"


async def test_show_of_an_unknown_run_exits_1(unique: str) -> None:
    result = await llmops("eval", "show", f"nope-{unique}")

    assert result.exit_code == 1
    assert result.stderr == f"error: no evaluation 'nope-{unique}' on llmops.eval.completed\n"
