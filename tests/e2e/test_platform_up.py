"""`llmops up` starts the whole platform as processes; every `/readyz` turns green, a killed service is
restarted, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from llmops_common.settings import SERVICE_NAMES
from tests.support.platform_run import platform_env as environment
from tests.support.platform_run import platform_status as status
from tests.support.platform_run import running_platform, wait_all_ready
from tests.support.processes import processes_with_env


@pytest.fixture
def platform_env(tmp_path: Path, tiny_model: Path) -> dict[str, str]:
    """Free ports for every service, a data folder of the test's own, and the small test model as the base
    model (else `llmops up` would first spend minutes building the default one), on the transformers
    engine, which is what `make up` installs (`make test` adds vLLM, tested on its own)."""
    return environment(tmp_path / "data", tiny_model)


@pytest.fixture
def platform(platform_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`llmops up` on a free Kafka port; whatever it leaves is killed afterwards."""
    with running_platform(platform_env, tmp_path / "up.log") as running:
        yield running.process, running.kafka_port


@pytest.mark.timeout(300)
def test_up_runs_every_service_until_ctrl_c(
    platform: tuple[subprocess.Popen[bytes], int], platform_env: dict[str, str]
) -> None:
    up, kafka_port = platform
    document = wait_all_ready(platform_env, kafka_port, timeout=150)
    assert document["kafka_bootstrap"] == f"127.0.0.1:{kafka_port}"
    services = document["services"]
    assert isinstance(services, dict)
    assert sorted(services) == sorted(SERVICE_NAMES)
    for name, service in services.items():
        assert service["url"] == f"http://127.0.0.1:{platform_env[f'LLMOPS_{name.upper()}_PORT']}"
        metrics = httpx.get(f"{service['url']}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "llmops_http_requests_total" in metrics.text

    # The development key `up` saved opens the prompt registry, whose replica of the keys has it.
    token = json.loads((Path(platform_env["LLMOPS_DATA_DIR"]) / "dev-key.json").read_text())["token"]
    registry = f"{services['prompt_registry']['url']}/v1/prompts"
    prompts = httpx.get(registry, headers={"Authorization": f"Bearer {token}"})
    assert prompts.status_code == 200, prompts.text
    assert httpx.get(registry).status_code == 401

    marker = f"LLMOPS_DATA_DIR={platform_env['LLMOPS_DATA_DIR']}"
    trainer = [pid for pid, cmd in processes_with_env(marker).items() if cmd.endswith("-m services.trainer")]
    assert len(trainer) == 1
    os.kill(trainer[0], signal.SIGKILL)
    wait_all_ready(platform_env, kafka_port, timeout=60)
    restarted = [pid for pid, cmd in processes_with_env(marker).items() if cmd.endswith("-m services.trainer")]
    assert len(restarted) == 1
    assert restarted != trainer

    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=60) == 0
    assert processes_with_env(marker) == {}
    after = status(platform_env, kafka_port)["services"]
    assert isinstance(after, dict)
    assert {service["health"] for service in after.values()} == {"down"}
