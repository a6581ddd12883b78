"""Each hand-written example under `schemas/examples/` is valid against its generated schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from llmops_common.contracts.event_schemas import event_schema, example_path
from llmops_common.events import EVENT_MODELS
from llmops_common.settings import REPO_ROOT

SCHEMAS = REPO_ROOT / "schemas"


def example(event_type: str) -> dict[str, Any]:
    """The example of one event type."""
    loaded: dict[str, Any] = json.loads((SCHEMAS / example_path(event_type)).read_text())
    return loaded


def validator(event_type: str) -> Draft202012Validator:
    """A validator of an event type's generated schema that checks formats such as `date-time`."""
    return Draft202012Validator(
        event_schema(EVENT_MODELS[event_type]), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def test_every_event_type_has_one_example_and_every_example_an_event_type() -> None:
    examples = {path.name.removesuffix(".json") for path in (SCHEMAS / "examples").glob("*.json")}

    assert examples == set(EVENT_MODELS)


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_the_example_is_valid_against_its_schema_and_its_model(event_type: str) -> None:
    body = example(event_type)

    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(event_type).iter_errors(body)
    ]
    assert errors == []
    EVENT_MODELS[event_type].model_validate(body)


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_the_schema_refuses_a_property_it_does_not_know(event_type: str) -> None:
    with pytest.raises(ValidationError, match="Additional properties are not allowed"):
        validator(event_type).validate({**example(event_type), "not_in_the_contract": 1})
