"""`infra/kafka/topics.yaml` is generated from the catalog and must not go stale."""

from __future__ import annotations

import yaml

from llmops_common.kafka.topic_config import TOPIC_CONFIG_PATH, render_topic_config
from llmops_common.settings import PlatformSettings
from llmops_common.topics import CATALOG


def test_committed_topic_config_is_current() -> None:
    expected = render_topic_config(PlatformSettings.model_construct())
    assert TOPIC_CONFIG_PATH.read_text() == expected, "infra/kafka/topics.yaml is stale: run `make schemas`"


def test_compacted_topics_are_configured_compacted() -> None:
    topics = {t["name"]: t for t in yaml.safe_load(TOPIC_CONFIG_PATH.read_text())["topics"]}
    for spec in CATALOG:
        assert topics[spec.name]["config"]["cleanup.policy"] == spec.cleanup_policy
    assert topics["llmops.dlq.monitor"]["config"]["cleanup.policy"] == "delete"
