"""Each generated event schema is closed, identified and versioned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict

from llmops_common.contracts.event_schemas import ContractError, event_schema, event_version
from llmops_common.events import EVENT_MODELS, Event


def object_schemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema of `type: object` inside `schema`, its `$defs` included."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for key, value in schema.items():
            if key not in ("enum", "const", "default", "examples"):
                yield from object_schemas(value if key not in ("properties", "$defs") else list(value.values()))
    elif isinstance(schema, list):
        for item in schema:
            yield from object_schemas(item)


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_object_is_closed_or_a_typed_map(event_type: str) -> None:
    schema = event_schema(EVENT_MODELS[event_type])

    for obj in object_schemas(schema):
        if "properties" in obj:
            assert obj["additionalProperties"] is False, obj.get("title")
        else:  # a map such as `metadata`: open keys, but every value typed
            assert isinstance(obj["additionalProperties"], dict), obj.get("title")


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_a_schema_names_its_event_type_and_version(event_type: str) -> None:
    schema = event_schema(EVENT_MODELS[event_type])

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:llmops:event:{event_type}"
    assert schema["title"] == schema["x-event-type"] == event_type
    assert schema["x-event-version"] == int(event_type.rsplit(".v", 1)[1])


def test_an_event_type_without_a_version_is_refused() -> None:
    with pytest.raises(ContractError, match="does not end in its version"):
        event_version("llmops.thing.happened")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class _HoldsAnOpenModelV1(Event):
    event_type: ClassVar[str] = "test.holds.open.v1"
    inner: _Open


def test_a_model_that_allows_extra_fields_is_refused() -> None:
    with pytest.raises(ContractError, match="_Open allows extra properties"):
        event_schema(_HoldsAnOpenModelV1)
