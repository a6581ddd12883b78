"""The AsyncAPI document describes every catalog topic, and every reference in it resolves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmops_common.contracts.asyncapi import asyncapi_document
from llmops_common.events import EVENT_MODELS
from llmops_common.settings import REPO_ROOT
from llmops_common.topics import CATALOG, INFERENCE_COMPLETED

SCHEMAS = REPO_ROOT / "schemas"


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` inside `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def follow(document: dict[str, Any], pointer: str) -> Any:
    """The node a local JSON pointer names."""
    node: Any = document
    for token in pointer.removeprefix("#/").split("/"):
        node = node[token]
    return node


def test_one_channel_per_topic_and_one_message_per_event_type() -> None:
    document = asyncapi_document(CATALOG)

    assert document["asyncapi"] == "3.0.0"
    assert sorted(document["channels"]) == sorted(spec.name for spec in CATALOG)
    assert sorted(document["components"]["messages"]) == sorted(EVENT_MODELS)


def test_a_channel_carries_the_topics_retention_and_each_service_has_its_operations() -> None:
    document = asyncapi_document(CATALOG)
    channel = document["channels"]["llmops.inference.completed"]

    assert channel["bindings"]["kafka"]["topicConfiguration"] == {
        "cleanup.policy": ["delete"],
        "retention.ms": INFERENCE_COMPLETED.retention_ms,
    }
    assert list(channel["messages"]) == ["llmops.inference.completed.v1"]
    assert {
        name
        for name, op in document["operations"].items()
        if op["channel"]["$ref"].endswith("/llmops.inference.completed")
    } == {
        "model_server.send.llmops.inference.completed",
        "monitor.receive.llmops.inference.completed",
        "feedback_collector.receive.llmops.inference.completed",
    }


def test_every_reference_resolves_to_a_node_or_a_schema_file() -> None:
    document = asyncapi_document(CATALOG)

    for ref in refs(document):
        if ref.startswith("#/"):
            assert follow(document, ref), ref
        else:
            assert (SCHEMAS / Path(ref)).is_file(), ref
