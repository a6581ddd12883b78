"""One YAML document per topic: what it carries, how it is keyed and kept, and who uses it."""

from __future__ import annotations

from typing import Any

from ..topics import TopicSpec
from .event_schemas import event_version, example_path, schema_path

COMPATIBILITY = {
    "mode": "BACKWARD",
    "scope": "each vN event type",
    "breaking_change": "publish a new vN+1 type beside the old one until its consumers have moved",
}
"""The rule every event type follows: a consumer on the newer schema reads every older event."""


def topic_path(spec: TopicSpec) -> str:
    """Where a topic's document lies, relative to `schemas/`."""
    return f"topics/{spec.name}.yaml"


def topic_document(spec: TopicSpec) -> dict[str, Any]:
    """The document of one topic; its paths are relative to the document itself."""
    document: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "key": spec.key,
        "cleanup_policy": spec.cleanup_policy,
    }
    if spec.cleanup_policy == "delete":
        document["retention_ms"] = spec.retention_ms
    if spec.extra_config:
        document["extra_config"] = dict(sorted(spec.extra_config.items()))
    document["compatibility"] = dict(COMPATIBILITY)
    document["producers"] = list(spec.producers)
    document["consumers"] = list(spec.consumers)
    document["events"] = [
        {
            "type": model.event_type,
            "version": event_version(model.event_type),
            "schema": f"../{schema_path(model.event_type)}",
            "example": f"../{example_path(model.event_type)}",
        }
        for model in spec.events
    ]
    return document
