"""`llmops data` against the ingestion service over real HTTP on the real broker: seal, versions, profile
(tables and a PNG), erase, and clear errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from llmops_common.cli.data import data_app
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.ingestion.app import create_app
from services.ingestion.settings import Settings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.uvicorn_thread import serving

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def example(record_id: str, prompt: str, completion: str, user: str) -> dict[str, object]:
    return {
        "record_id": record_id,
        "source": "chat",
        "kind": "example",
        "dataset": "support",
        "prompt": prompt,
        "completion": completion,
        "metadata": {"user_id": user},
    }


@pytest.fixture
async def running(settings: PlatformSettings, tmp_path: Path, unique: str) -> AsyncIterator[tuple[str, str]]:
    """The ingestion service on a free port holding two examples of `support`, and a key of its tenant."""
    api_key = await publish_api_key(settings, f"c-{unique}", "data")
    port = free_port()
    service = Settings(**{**settings.model_dump(), "data_dir": tmp_path / "ingestion", "ingestion_port": port})
    with serving(create_app(service), port) as base_url:
        records = [
            example("a", "How do I reset my password?", "Open Settings, then Security.", "u1"),
            example("b", "Where are my invoices?", "Under Account, then Billing.", "u2"),
        ]
        async with httpx.AsyncClient(base_url=base_url, headers=bearer(api_key)) as client:
            assert (await client.post("/v1/ingest", json={"records": records})).status_code == 202
            for _ in range(200):
                state = await client.get("/v1/datasets/support")
                if state.status_code == 200 and state.json()["examples"] == 2:
                    break
                await asyncio.sleep(0.1)
        yield base_url, api_key


def data(running: tuple[str, str], *args: str) -> Result:
    base_url, api_key = running
    return CliRunner().invoke(data_app, [*args, "--url", base_url], env={"LLMOPS_API_KEY": api_key})


async def test_seal_profile_and_erase_from_the_command_line(running: tuple[str, str], tmp_path: Path) -> None:
    sealed = await asyncio.to_thread(data, running, "seal", "support")
    again = await asyncio.to_thread(data, running, "seal", "support")
    png = tmp_path / "profile.png"
    profile = await asyncio.to_thread(data, running, "profile", "support", "--png", str(png))
    erased = await asyncio.to_thread(data, running, "erase", "--key", "user_id", "--value", "u1", "--reason", "test")
    listed = await asyncio.to_thread(data, running, "versions", "support")

    assert sealed.exit_code == 0, sealed.output
    version = sealed.stdout.splitlines()[0].removeprefix("support: sealed ")
    assert len(version) == 64
    assert "rows 2 (train " in sealed.stdout
    assert again.stdout.splitlines()[0] == f"support: unchanged, already sealed as {version}"
    assert profile.exit_code == 0, profile.output
    assert f"support@{version[:12]} (words tokens)" in profile.stdout
    assert "records seen" in profile.stdout
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert erased.exit_code == 0, erased.output
    assert erased.stdout.endswith("0 documents erased, 1 examples removed (datasets: support)\n")
    assert listed.exit_code == 0
    assert version[:16] in listed.stdout


async def test_errors_name_the_problem_and_exit_1(running: tuple[str, str]) -> None:
    unknown = await asyncio.to_thread(data, running, "seal", "nope")
    no_version = await asyncio.to_thread(data, running, "profile", "support@0123456789")
    neither = await asyncio.to_thread(data, running, "erase")

    assert (unknown.exit_code, unknown.stderr) == (1, "error: no dataset 'nope'\n  dataset: \"nope\"\n")
    assert no_version.exit_code == 1
    assert "has no sealed version" in no_version.stderr
    assert neither.exit_code == 2
    assert "give either --doc-id, or --key and --value" in neither.output
