"""The backward-compatibility checker on small hand-made schemas, and on schemas pydantic generates."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import Field

from llmops_common.contracts.compat import breaking_changes
from llmops_common.contracts.event_schemas import event_schema
from llmops_common.events import EVENT_MODELS, Event


def closed(
    properties: dict[str, Any], required: tuple[str, ...] = (), defs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A closed object schema, with definitions for its `$ref`s."""
    schema = {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}
    return {**schema, "$defs": defs} if defs else schema


INTEGER = {"type": "integer"}
STRING = {"type": "string"}
USAGE = closed({"tokens": INTEGER, "model": STRING}, ("tokens",))
BASE = closed({"request_id": STRING, "tokens": INTEGER}, ("request_id",))


def test_an_identical_schema_is_compatible() -> None:
    assert breaking_changes(BASE, BASE) == []


def test_an_added_optional_property_is_compatible() -> None:
    new = closed({"request_id": STRING, "tokens": INTEGER, "cost": {"type": "number"}}, ("request_id",))

    assert breaking_changes(BASE, new) == []


def test_a_removed_property_breaks() -> None:
    new = closed({"request_id": STRING}, ("request_id",))

    assert breaking_changes(BASE, new) == ["payload.tokens: property removed"]


def test_a_new_required_property_breaks() -> None:
    new = closed({"request_id": STRING, "tokens": INTEGER, "tenant": STRING}, ("request_id", "tenant"))

    assert breaking_changes(BASE, new) == ["payload.tenant: new required property"]


def test_an_optional_property_that_became_required_breaks() -> None:
    new = closed({"request_id": STRING, "tokens": INTEGER}, ("request_id", "tokens"))

    assert breaking_changes(BASE, new) == ["payload.tokens: optional property became required"]


def test_a_changed_type_breaks() -> None:
    new = closed({"request_id": STRING, "tokens": STRING}, ("request_id",))

    assert breaking_changes(BASE, new) == ["payload.tokens: type changed from integer to string"]


def test_integer_may_widen_to_number_but_not_narrow_back() -> None:
    wider = closed({"request_id": STRING, "tokens": {"type": "number"}}, ("request_id",))

    assert breaking_changes(BASE, wider) == []
    assert breaking_changes(wider, BASE) == ["payload.tokens: type changed from number to integer"]


def test_dropping_null_from_an_optional_field_breaks() -> None:
    nullable = closed({"note": {"anyOf": [STRING, {"type": "null"}], "default": None}})
    not_nullable = closed({"note": STRING})

    assert breaking_changes(not_nullable, nullable) == []
    assert breaking_changes(nullable, not_nullable) == ["payload.note: type changed from string | null to string"]


def test_a_change_inside_a_nested_definition_is_reported_at_its_path() -> None:
    old = closed({"usage": {"$ref": "#/$defs/Usage"}}, ("usage",), defs={"Usage": USAGE})
    changed_usage = closed({"tokens": STRING, "model": STRING}, ("tokens",))
    new = closed({"usage": {"$ref": "#/$defs/Usage"}}, ("usage",), defs={"Usage": changed_usage})

    assert breaking_changes(old, new) == ["payload.usage.tokens: type changed from integer to string"]


def test_a_nested_property_removed_or_newly_required_breaks() -> None:
    old = closed({"usage": USAGE})
    new = closed({"usage": closed({"tokens": INTEGER, "cached": INTEGER}, ("tokens", "cached"))})

    assert breaking_changes(old, new) == [
        "payload.usage.model: property removed",
        "payload.usage.cached: new required property",
    ]


def test_a_renamed_definition_of_the_same_shape_is_compatible() -> None:
    old = closed({"usage": {"$ref": "#/$defs/Usage"}}, defs={"Usage": USAGE})
    new = closed({"usage": {"$ref": "#/$defs/TokenUsage"}}, defs={"TokenUsage": USAGE})

    assert breaking_changes(old, new) == []


def test_a_reference_to_another_shape_breaks() -> None:
    defs = {"Usage": USAGE, "Cost": closed({"usd": {"type": "number"}}, ("usd",))}
    old = closed({"usage": {"$ref": "#/$defs/Usage"}}, defs=defs)
    new = closed({"usage": {"$ref": "#/$defs/Cost"}}, defs=defs)

    assert breaking_changes(old, new) == [
        "payload.usage.model: property removed",
        "payload.usage.tokens: property removed",
        "payload.usage.usd: new required property",
    ]


def test_a_reference_replaced_by_a_scalar_names_the_definition() -> None:
    old = closed({"usage": {"$ref": "#/$defs/Usage"}}, defs={"Usage": USAGE})
    new = closed({"usage": STRING})

    assert breaking_changes(old, new) == ["payload.usage: type changed from Usage to string"]


def test_a_non_local_reference_must_keep_its_target() -> None:
    old = closed({"usage": {"$ref": "usage.v1.json"}})
    new = closed({"usage": {"$ref": "usage.v2.json"}})

    assert breaking_changes(old, new) == ["payload.usage: type changed from $ref usage.v1.json to $ref usage.v2.json"]


def test_a_change_to_array_items_breaks() -> None:
    old = closed({"tags": {"type": "array", "items": STRING}})
    new = closed({"tags": {"type": "array", "items": INTEGER}})

    assert breaking_changes(old, new) == ["payload.tags[]: type changed from string to integer"]


def test_a_change_to_map_values_breaks() -> None:
    old = closed({"metrics": {"type": "object", "additionalProperties": {"type": "number"}}})
    new = closed({"metrics": {"type": "object", "additionalProperties": INTEGER}})

    assert breaking_changes(old, new) == ["payload.metrics.*: type changed from number to integer"]


def test_a_removed_enum_value_breaks_and_an_added_one_does_not() -> None:
    old = closed({"status": {"type": "string", "enum": ["ok", "error"]}})
    fewer = closed({"status": {"type": "string", "enum": ["ok"]}})
    more = closed({"status": {"type": "string", "enum": ["ok", "error", "cancelled"]}})

    assert breaking_changes(old, fewer) == ['payload.status: enum values removed: "error"']
    assert breaking_changes(old, more) == []


def test_narrowed_formats_patterns_and_bounds_break_and_widened_ones_do_not() -> None:
    old = closed({"at": STRING, "name": {"type": "string", "maxLength": 256}, "n": {"type": "integer"}})
    narrow = closed(
        {
            "at": {"type": "string", "format": "date-time"},
            "name": {"type": "string", "maxLength": 128, "pattern": "^[a-z]+$"},
            "n": {"type": "integer", "minimum": 0},
        }
    )
    wide = closed({"at": STRING, "name": {"type": "string", "maxLength": 512}, "n": {"type": "integer"}})

    assert breaking_changes(old, narrow) == [
        'payload.at: format changed from none to "date-time"',
        "payload.n: minimum narrowed from none to 0",
        'payload.name: pattern changed from none to "^[a-z]+$"',
        "payload.name: maxLength narrowed from 256 to 128",
    ]
    assert breaking_changes(old, wide) == []


def test_a_recursive_definition_is_compared_without_looping() -> None:
    node = closed({"value": INTEGER, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}})
    old = {"$ref": "#/$defs/Node", "$defs": {"Node": node}}
    changed = closed({"value": STRING, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}})
    new = {"$ref": "#/$defs/Node", "$defs": {"Node": changed}}

    assert breaking_changes(old, old) == []
    assert breaking_changes(old, new) == ["payload.value: type changed from integer to string"]


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_generated_schema_is_compatible_with_itself(event_type: str) -> None:
    schema = event_schema(EVENT_MODELS[event_type])

    assert breaking_changes(schema, schema) == []


class _ScoredV1(Event):
    event_type: ClassVar[str] = "test.scored.v1"
    request_id: str = Field(min_length=1)
    score: int = Field(ge=0, le=5)


class _ScoredWithCommentV1(Event):
    event_type: ClassVar[str] = "test.scored.v1"
    request_id: str = Field(min_length=1)
    score: int = Field(ge=0, le=5)
    comment: str | None = None


class _ScoredWithTenantV1(Event):
    event_type: ClassVar[str] = "test.scored.v1"
    request_id: str = Field(min_length=1)
    score: float = Field(ge=0, le=10)
    tenant: str


def test_evolving_a_pydantic_model_is_judged_the_way_the_style_guide_says() -> None:
    old = event_schema(_ScoredV1)

    assert breaking_changes(old, event_schema(_ScoredWithCommentV1)) == []
    assert breaking_changes(old, event_schema(_ScoredWithTenantV1)) == ["payload.tenant: new required property"]
    assert breaking_changes(event_schema(_ScoredWithTenantV1), old) == [
        "payload.score: type changed from number to integer",
        "payload.tenant: property removed",
    ]
