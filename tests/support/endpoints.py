"""Real endpoints for tests, found in this order: an env var naming a server; else a container when
a Docker daemon answers; else a local process (Tansu on a free port)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from llmops_common.local_kafka import free_port, running_tansu


def docker_answers() -> bool:
    """Whether a Docker daemon is reachable for testcontainers."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def kafka_endpoint() -> Iterator[str]:
    """A Kafka bootstrap address for the test session."""
    if bootstrap := os.environ.get("LLMOPS_TEST_KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    if docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    port = free_port()
    with running_tansu(port):
        yield f"127.0.0.1:{port}"
