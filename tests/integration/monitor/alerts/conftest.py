"""Fixtures of the alert tests: the MiniLM embedder, and the sink running over the test's own topics."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, locate_model
from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder
from llmops_common.kafka.admin import create_topics
from llmops_common.settings import PlatformSettings
from llmops_common.storage.telemetry import TelemetryStore
from llmops_common.topics import BUDGETS
from services.monitor.telemetry_rows import TableRoute
from tests.integration.monitor.alerts.harness import MonitorHarness
from tests.integration.monitor.conftest import SinkFactory


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged MiniLM, loaded once for the session (it takes seconds)."""
    return SentenceTransformerEmbedder.load(locate_model(DEFAULT_EMBEDDING_MODEL), device="cpu", threads=2)


@pytest.fixture
async def harness(
    settings: PlatformSettings,
    broker: KafkaBroker,
    telemetry: TelemetryStore,
    topic_routes: dict[str, TableRoute],
    sink: SinkFactory,
    unique: str,
) -> AsyncIterator[MonitorHarness]:
    """The sink running over the test's topics, and a harness to send traffic with."""
    budgets_topic = f"{BUDGETS.name}.{unique}"
    await create_topics(settings, [NewTopic(budgets_topic, 1, 1)])
    async with sink(f"monitor-sink-{unique}"):
        yield MonitorHarness(settings, broker, telemetry, topic_routes, budgets_topic, random.Random(7))  # noqa: S311 - synthetic traffic
