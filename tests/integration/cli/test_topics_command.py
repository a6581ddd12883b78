"""`llmops topics --create` creates the catalog's topics on the broker and lists them as present."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from llmops_common.cli.main import app
from llmops_common.kafka.admin import list_topics
from llmops_common.settings import PlatformSettings
from llmops_common.topics import CATALOG


def test_topics_create_then_list(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    result = CliRunner().invoke(app, ["topics", "--create"])
    assert result.exit_code == 0, result.output
    assert {spec.name for spec in CATALOG} <= set(asyncio.run(list_topics(settings)))
    rows = [line for line in result.output.splitlines() if "llmops." in line and "│" in line]
    listed = {row.split("│")[1].strip(): row.split("│")[5].strip() for row in rows if row.split("│")[1].strip()}
    assert listed == {spec.name: "yes" for spec in CATALOG}
    assert "delete after 1h" in result.output


def test_status_exits_1_and_says_down_when_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    for port_setting in (
        "MODEL_SERVER",
        "INGESTION",
        "PROMPT_REGISTRY",
        "TRAINER",
        "EVALUATOR",
        "RAG_RETRIEVER",
        "FEEDBACK_COLLECTOR",
        "MONITOR",
    ):
        monkeypatch.setenv(f"LLMOPS_{port_setting}_PORT", "1")
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 1
    assert '"health": "down"' in result.output
