"""A broker of each test's own, and what every reliability test starts its service processes with.

The services consume the catalog's fixed topics with fixed consumer groups, so tests that share a broker
would see each other's events and offsets. A Tansu broker starts in well under a second: each test gets
a fresh one, and so fresh topics and groups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmops_common.kafka.admin import catalog_topics, create_topics
from llmops_common.kafka.broker import build_broker
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from tests.support.service_process import ServiceLauncher, launched, service_env
from tests.support.tansu_broker import TansuBroker, s3_bucket_server


@dataclass(frozen=True)
class Platform:
    """The test's broker and data folder, and how to start its services."""

    settings: PlatformSettings
    broker: TansuBroker
    folder: Path

    @property
    def bootstrap(self) -> str:
        """The broker's address."""
        return self.settings.kafka_bootstrap

    def env(self, **settings: str) -> dict[str, str]:
        """A service process's environment: this broker and data folder, and `LLMOPS_` settings by name."""
        return service_env(self.bootstrap, self.settings.data_dir, **settings)

    async def create_topics(self) -> None:
        """Creates every catalog topic and dead-letter topic, as `llmops topics create` does."""
        await create_topics(self.settings, catalog_topics(self.settings))

    @asynccontextmanager
    async def publisher(self) -> AsyncIterator[EventPublisher]:
        """A publisher on the broker, as another team's producer has one."""
        broker = build_broker(self.settings, client_id="reliability-test")
        await broker.connect()
        try:
            yield EventPublisher(broker, "/reliability-test")
        finally:
            await broker.stop()


@contextmanager
def platform_on(broker: TansuBroker, folder: Path) -> Iterator[Platform]:
    """Starts `broker`, and stops it when the block ends."""
    broker.start()
    try:
        settings = PlatformSettings(
            kafka_bootstrap=f"127.0.0.1:{broker.port}",
            data_dir=folder / "data",
            kafka_topic_partitions=3,
            kafka_session_timeout_ms=1000,
            kafka_heartbeat_interval_ms=300,
        )
        yield Platform(settings, broker, folder)
    finally:
        broker.stop()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    """A fresh broker on a free port, keeping its topics in memory, and a data folder, for this test alone."""
    with platform_on(TansuBroker(free_port(), tmp_path / "tansu.log"), tmp_path) as platform:
        yield platform


@pytest.fixture
def durable_platform(tmp_path: Path) -> Iterator[Platform]:
    """A fresh broker that keeps its topics in an S3 bucket (a moto server), so that it may be stopped and
    started again without losing them, as a Kafka broker restarts."""
    with s3_bucket_server(tmp_path / "s3.log") as endpoint:
        broker = TansuBroker(free_port(), tmp_path / "tansu.log", s3_endpoint=endpoint)
        with platform_on(broker, tmp_path) as platform:
            yield platform


@pytest.fixture(scope="session")
def onnx_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the retriever's embedding model, exported to ONNX once (about 20 s on 2 CPUs), is kept across
    tests and runs: pytest's cache folder, or a temporary one when the cache is off."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("llmops-onnx") if cache else tmp_path_factory.mktemp("onnx")


def share_onnx_cache(platform: Platform, onnx_cache: Path) -> None:
    """Points the data folder's ONNX model cache at the shared one."""
    link = platform.settings.embedding_cache_dir
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(onnx_cache, target_is_directory=True)


Launch = Callable[..., ServiceLauncher]
"""`launch(service, **settings)`: a launcher of the service's processes, with `LLMOPS_` settings by name."""


@contextmanager
def launching(platform: Platform) -> Iterator[Launch]:
    """Starts launchers of services on `platform`; every process is killed when the block ends."""
    with ExitStack() as stack:

        def start(service: str, **settings: str) -> ServiceLauncher:
            return stack.enter_context(launched(service, platform.env(**settings), platform.folder))

        yield start


@pytest.fixture
def launch(platform: Platform) -> Iterator[Launch]:
    """Starts services on the test's platform; every process is killed at the end."""
    with launching(platform) as start:
        yield start


@pytest.fixture
def launch_durable(durable_platform: Platform) -> Iterator[Launch]:
    """Starts services on the test's durable platform; every process is killed at the end."""
    with launching(durable_platform) as start:
        yield start
