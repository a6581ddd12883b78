"""`llmops demo`'s parts that need no platform: the command's help, its data, its environment and its
event log. The whole demo runs for minutes (`make demo`); it is too slow for `make test`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmops_common.cli.main import app
from llmops_common.demo.event_log import EventLog
from llmops_common.demo.platform import demo_environment
from llmops_common.demo.scenario import ASSISTANT, scenario_settings
from llmops_common.demo.tickets import help_center, tickets
from llmops_common.events import ModelPromotedV1
from llmops_common.settings import SERVICE_NAMES


def test_the_demo_command_explains_itself() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])

    assert result.exit_code == 0, result.output
    assert "--base-model" in result.output
    assert "--work-dir" in result.output


def test_tickets_are_distinct_and_the_same_for_a_seed() -> None:
    first = tickets(100, seed=7)

    assert first == tickets(100, seed=7)
    assert len({ticket.order for ticket in first}) == 100
    assert first[0].answer == f"Your ticket for order {first[0].order} is T-{first[0].order}. We reply within one day."


def test_help_center_articles_have_distinct_titles_and_ids() -> None:
    articles = help_center(40)

    assert len(articles) == 40
    assert len({a.title for a in articles}) == 40
    assert [a.doc_id for a in articles[:2]] == ["kb-000", "kb-001"]
    assert all(a.text.startswith(a.title) for a in articles)


def test_the_environment_runs_on_embedded_stores_and_free_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("LLMOPS_CLICKHOUSE_URL", "http://clickhouse.example:8123")

    env, settings = demo_environment(tmp_path / "data", scenario_settings("/models/base", "base"))

    assert "LLMOPS_KAFKA_BOOTSTRAP" not in env
    assert "LLMOPS_CLICKHOUSE_URL" not in env
    assert settings.clickhouse_url is None
    assert env["LLMOPS_DATA_DIR"] == str((tmp_path / "data").resolve())
    assert env["LLMOPS_BASE_MODEL"] == "/models/base"
    ports = {int(env[f"LLMOPS_{name.upper()}_PORT"]) for name in SERVICE_NAMES}
    assert len(ports) == len(SERVICE_NAMES)
    assert {settings.port_of(name) for name in SERVICE_NAMES} == ports
    assert ASSISTANT in env["LLMOPS_RETRAIN_POLICIES"]


async def test_the_event_log_hands_a_waiter_the_first_matching_event() -> None:
    log = EventLog()

    def promoted(model: str) -> ModelPromotedV1:
        return ModelPromotedV1(model_name=model, changed_by="t", changed_at=datetime.now(UTC), base_model="b")

    waiter = asyncio.create_task(log.first(ModelPromotedV1, lambda e: e.model_name == "wanted", timeout=5))
    await asyncio.sleep(0)
    log.add([promoted("other")])
    await asyncio.sleep(0)
    assert not waiter.done()
    log.add([promoted("wanted"), promoted("wanted-later")])

    assert (await waiter).model_name == "wanted"
    assert log.latest(ModelPromotedV1) == log.events[-1]
    with pytest.raises(TimeoutError):
        await log.first(ModelPromotedV1, lambda e: e.model_name == "never", timeout=0.05)
