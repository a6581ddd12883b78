"""`llmops up` publishes its admin development key only to the broker it started itself, unless asked.

Before the fix, `up` pointed at a broker of the user's (`LLMOPS_KAFKA_BOOTSTRAP`, perhaps production)
published the dev key there too: an admin key, its token in a file, that outlives the session. Here `up`
runs against the test's real broker as if it were the user's; its service processes are left out, since
what is published happens before them.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from typer.testing import CliRunner

from llmops_common import local_platform
from llmops_common.auth.dev_key import load_or_issue_dev_key
from llmops_common.cli import up as up_command
from llmops_common.cli.main import app
from llmops_common.settings import PlatformSettings
from llmops_common.topics import AUTH_KEYS
from tests.support.topic_reader import read_topic


class IdleSupervisor:
    """Stands in for the services' processes, which this test does not need."""

    def __init__(self, *_: object) -> None:
        pass

    def start_all(self) -> None:
        pass

    def poll(self) -> None:
        pass

    def stop_all(self) -> None:
        pass


def published(bootstrap: str, key_id: str) -> bool:
    """Whether the keys topic holds an event of `key_id`."""
    records = asyncio.run(read_topic(bootstrap, AUTH_KEYS.name, 1_000_000, timeout=2.0))
    return any(record.key == key_id.encode() for record in records)


def run_up(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[str, str]:
    """Runs `llmops up` against the test's broker as the user's own, and stops it at once.

    Returns its output and the id of the dev key saved in its data folder (issued beforehand, as by
    an earlier local run), so that a publication of the key can be looked for.
    """
    _, dev_key, _ = load_or_issue_dev_key(settings.data_dir)
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    monkeypatch.setenv("LLMOPS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LLMOPS_BASE_MODEL", str(settings.data_dir / "no-model"))  # builds no default model
    monkeypatch.delenv("LLMOPS_PUBLISH_DEV_KEY", raising=False)
    monkeypatch.setattr(local_platform, "Supervisor", IdleSupervisor)
    stopped = threading.Event()
    stopped.set()
    monkeypatch.setattr(up_command, "wait_for_stop_signal", lambda: stopped)
    result = CliRunner().invoke(app, ["up", "--ready-timeout", "0", *options])
    assert result.exit_code == 0, result.output
    return result.output, dev_key.key_id


def test_the_dev_key_is_not_published_to_a_configured_broker(
    settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, key_id = run_up(settings, monkeypatch)

    assert not published(settings.kafka_bootstrap, key_id)
    assert f"llmops_{key_id}_" not in output  # no token printed
    assert "--publish-dev-key" in output
    assert "llmops keys create --tenant <tenant> --role admin" in " ".join(output.split())


def test_the_flag_publishes_it_there(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    output, key_id = run_up(settings, monkeypatch, "--publish-dev-key")

    assert published(settings.kafka_bootstrap, key_id)
    assert f"llmops_{key_id}_" in output
