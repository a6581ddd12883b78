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
