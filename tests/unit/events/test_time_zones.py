"""Event times carry a time zone: a naive timestamp is refused, as the JSON Schema's date-time format does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from llmops_common.events import EVENT_MODELS
from llmops_common.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "llmops.inference.completed.v1.json"


def test_a_naive_timestamp_is_refused() -> None:
    body = json.loads(Path(EXAMPLE).read_text())
    body["started_at"] = "2026-11-22T10:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        EVENT_MODELS["llmops.inference.completed.v1"].model_validate(body)


def test_an_aware_timestamp_is_accepted() -> None:
    body = json.loads(Path(EXAMPLE).read_text())
    body["started_at"] = "2026-11-22T10:00:00+01:00"
    event = EVENT_MODELS["llmops.inference.completed.v1"].model_validate(body)
    assert event.model_dump()["started_at"].utcoffset() is not None
