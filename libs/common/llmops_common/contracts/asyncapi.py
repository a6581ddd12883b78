"""The AsyncAPI 3.0 document of every topic, written from the topic catalog.

FastStream can emit AsyncAPI from a broker's publishers, but it gives one channel per publisher and
one anonymous message each, invents a server and a `correlation_id` header the platform does not use,
and knows nothing of keys, retention, consumers or the CloudEvents headers. The catalog knows all of
that, so the document is built from it directly; payloads point at the event schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..events import Event
from ..kafka.envelope import CONTENT_TYPE, REQUIRED_HEADERS, SPEC_VERSION
from ..topics import TopicSpec
from .event_schemas import GENERATED_NOTE, schema_path

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
"""The version of the document's layout; each event type carries its own version in its name."""
KAFKA_BINDING_VERSION = "0.4.0"
PAYLOAD_FORMAT = "application/schema+json;version=draft-2020-12"


def asyncapi_document(catalog: Iterable[TopicSpec]) -> dict[str, Any]:
    """The AsyncAPI document of the topics in `catalog`."""
    topics = list(catalog)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "LLMOps platform events",
            "version": DOCUMENT_VERSION,
            "description": (
                "Every topic of the platform and the event types it carries. Each event is a "
                "CloudEvents 1.0 message in Kafka binary mode: attributes in `ce_*` headers, the JSON "
                f"body as the value. {GENERATED_NOTE}"
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {spec.name: _channel(spec) for spec in topics},
        "operations": dict(_operations(topics)),
        "components": {
            "messages": {model.event_type: _message(spec, model) for spec in topics for model in spec.events},
        },
    }


def _channel(spec: TopicSpec) -> dict[str, Any]:
    configuration: dict[str, Any] = {"cleanup.policy": [spec.cleanup_policy]}
    if spec.cleanup_policy == "delete":
        configuration["retention.ms"] = spec.retention_ms
    binding: dict[str, Any] = {"topicConfiguration": configuration, "bindingVersion": KAFKA_BINDING_VERSION}
    if spec.extra_config:
        binding["x-extra-config"] = dict(spec.extra_config)
    return {
        "address": spec.name,
        "description": spec.description,
        "messages": {model.event_type: {"$ref": f"#/components/messages/{model.event_type}"} for model in spec.events},
        "bindings": {"kafka": binding},
    }


def _operations(topics: list[TopicSpec]) -> Iterable[tuple[str, dict[str, Any]]]:
    for spec in topics:
        messages = [{"$ref": f"#/channels/{spec.name}/messages/{model.event_type}"} for model in spec.events]
        for action, services in (("send", spec.producers), ("receive", spec.consumers)):
            for service in services:
                yield (
                    f"{service}.{action}.{spec.name}",
                    {
                        "action": action,
                        "channel": {"$ref": f"#/channels/{spec.name}"},
                        "messages": messages,
                        "summary": f"{service} {'publishes on' if action == 'send' else 'consumes'} {spec.name}",
                        "tags": [{"name": service}],
                    },
                )


def _message(spec: TopicSpec, model: type[Event]) -> dict[str, Any]:
    return {
        "name": model.event_type,
        "title": model.__name__,
        "summary": (model.__doc__ or model.event_type).strip().splitlines()[0],
        "contentType": CONTENT_TYPE,
        "headers": _headers(model.event_type),
        "payload": {"schemaFormat": PAYLOAD_FORMAT, "schema": {"$ref": f"./{schema_path(model.event_type)}"}},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The event's `{spec.key}`."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            },
        },
    }


def _headers(event_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(REQUIRED_HEADERS),
        "properties": {
            "ce_id": {"type": "string", "description": "The event id; consumers are idempotent on it."},
            "ce_type": {"type": "string", "const": event_type},
            "ce_source": {"type": "string", "description": "The producing service, as a URI reference."},
            "ce_specversion": {"type": "string", "const": SPEC_VERSION},
            "ce_time": {"type": "string", "format": "date-time"},
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "traceparent": {"type": "string", "description": "The W3C trace context, when traced."},
        },
        "patternProperties": {"^ce_": {"type": "string", "description": "A CloudEvents extension."}},
    }
