"""Fixtures shared by every test layer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops_common.settings import PlatformSettings
from tests.support.endpoints import kafka_endpoint


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test after the folder it lives in."""
    for item in items:
        for layer in ("unit", "integration", "e2e", "bench"):
            if f"/tests/{layer}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real Kafka-protocol broker for the whole session."""
    with kafka_endpoint() as bootstrap:
        yield bootstrap


@pytest.fixture
def unique() -> str:
    """A suffix that keeps this test's topics, groups and collections apart from every other test's."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> PlatformSettings:
    """Settings pointing at the session's broker and a data folder of this test's own."""
    return PlatformSettings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path / "data",
        handler_backoff_seconds=0.01,
        kafka_topic_partitions=3,
        kafka_session_timeout_ms=1000,
        kafka_heartbeat_interval_ms=300,
    )


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama-architecture base model folder (tokenizer, chat template, safetensors), cached across runs
    in pytest's cache folder (built in a temporary one when the cache is off)."""
    from tests.support.tiny_models import tiny_model_folder

    cache = getattr(request.config, "cache", None)
    return tiny_model_folder(cache.mkdir("llmops-models") if cache else tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def lora_adapters(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different LoRA adapters for `tiny_model`."""
    from tests.support.tiny_models import make_lora_adapter

    root = tmp_path_factory.mktemp("adapters")
    return make_lora_adapter(tiny_model, root / "a", seed=1), make_lora_adapter(tiny_model, root / "b", seed=2)
