"""Validation rejects empty, malformed and too long records with a reason and a detail."""

from __future__ import annotations

import pytest

from llmops_common.events.data import RecordSubmittedV1
from services.ingestion.pipeline.content import RecordContent
from services.ingestion.pipeline.normalise import normalise_text
from services.ingestion.pipeline.outcomes import Rejection, RejectReason
from services.ingestion.pipeline.validation import validate


def check(fields: dict[str, object], max_chars: int = 50) -> Rejection | None:
    record = RecordSubmittedV1.model_validate({"record_id": "r", "tenant": "t", "source": "s", **fields})
    return validate(record, RecordContent.of(record).map(normalise_text), max_chars)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"kind": "document", "text": " \t\n "},
            Rejection(RejectReason.EMPTY, "document has no text after normalisation"),
        ),
        (
            {"kind": "example", "prompt": " ", "completion": ""},
            Rejection(RejectReason.EMPTY, "example has no text after normalisation"),
        ),
        ({"kind": "example", "prompt": "Q?"}, Rejection(RejectReason.MALFORMED, "example has no completion")),
        (
            {"kind": "example", "prompt": " ", "completion": "A."},
            Rejection(RejectReason.MALFORMED, "example has no prompt"),
        ),
        (
            {"kind": "example", "prompt": "Q?", "messages": [{"role": "user", "content": "Q?"}]},
            Rejection(RejectReason.MALFORMED, "example has both prompt and messages"),
        ),
        (
            {"kind": "example", "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": " "}]},
            Rejection(RejectReason.MALFORMED, "chat example has no assistant turn"),
        ),
        (
            {"kind": "example", "messages": [{"role": "assistant", "content": "A."}]},
            Rejection(RejectReason.MALFORMED, "chat example has only assistant turns"),
        ),
        ({"kind": "document", "text": "x" * 51}, Rejection(RejectReason.TOO_LONG, "51 characters > 50")),
        (
            {"kind": "example", "prompt": "p" * 30, "completion": "c" * 21},
            Rejection(RejectReason.TOO_LONG, "51 characters > 50"),
        ),
    ],
)
def test_invalid_records_are_rejected(fields: dict[str, object], expected: Rejection) -> None:
    assert check(fields) == expected


def test_length_is_counted_after_normalisation() -> None:
    assert check({"kind": "document", "text": "  " + "x" * 50 + "\n\n\n"}) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "document", "text": "Fine."},
        {"kind": "example", "prompt": "Q?", "completion": "A."},
        {"kind": "example", "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]},
    ],
)
def test_valid_records_pass(fields: dict[str, object]) -> None:
    assert check(fields) is None
