"""Writes `infra/kafka/topics.yaml`: every topic the platform needs, with its partitions and configuration,
for operators who create topics themselves (GitOps, Strimzi, kafka-topics.sh)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from ..settings import REPO_ROOT, PlatformSettings
from .admin import catalog_topics

TOPIC_CONFIG_PATH = REPO_ROOT / "infra" / "kafka" / "topics.yaml"


def render_topic_config(settings: PlatformSettings) -> str:
    """The topics as YAML, from the catalog and the default partition and replication settings."""
    topics = [
        {
            "name": topic.name,
            "partitions": topic.num_partitions,
            "replication_factor": topic.replication_factor,
            "config": dict(sorted((topic.topic_configs or {}).items())),
        }
        for topic in catalog_topics(settings)
    ]
    header = (
        "# Generated from llmops_common/topics.py by `make schemas`; do not edit by hand.\n"
        "# Services create these topics at start unless LLMOPS_KAFKA_CREATE_TOPICS=false.\n"
    )
    return header + yaml.safe_dump({"topics": topics}, sort_keys=False)


def main(path: Path = TOPIC_CONFIG_PATH) -> None:
    """Writes the topic configuration with the default settings, whatever the environment says."""
    path.write_text(render_topic_config(PlatformSettings.model_construct()))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
