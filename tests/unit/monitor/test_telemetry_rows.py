"""Events into table rows: the envelope in front, flattened where the table is flat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from llmops_common.events import AlertFiredV1, FeedbackSubmittedV1, ModelRolledBackV1
from llmops_common.events.alerts import AlertScope, TimeWindow
from llmops_common.kafka.envelope import Envelope
from services.monitor.telemetry_rows import alert_row, lifecycle_row, model_with_envelope

AT = datetime(2026, 11, 22, 12, 0, 0, 123000, tzinfo=UTC)
ENVELOPE = Envelope(id='evt-"1"', type="t", source="s", time=AT)


def test_a_flat_event_is_its_validated_json_behind_the_envelope_fields() -> None:
    event = FeedbackSubmittedV1(feedback_id="f", request_id="r", tenant="acme", score=5, submitted_at=AT)

    line = model_with_envelope(ENVELOPE, event)

    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line) == {
        "event_id": 'evt-"1"',
        "event_time": AT.timestamp(),
        **event.model_dump(mode="json"),
    }


def test_a_body_that_repeats_a_key_is_stored_as_it_was_validated() -> None:
    # Pydantic takes the last of repeated keys and ClickHouse the first: the row must hold what was checked.
    body = (
        b'{"feedback_id":"f","request_id":"r","tenant":"other","tenant":"acme","score":5,'
        b'"submitted_at":"2026-11-22T12:00:00Z"}'
    )
    event = FeedbackSubmittedV1.model_validate_json(body)

    assert json.loads(model_with_envelope(ENVELOPE, event))["tenant"] == "acme"
    assert model_with_envelope(ENVELOPE, event).count(b'"tenant"') == 1


def test_an_alert_is_flattened_with_its_state() -> None:
    window = TimeWindow(start=AT, end=AT + timedelta(hours=1))
    event = AlertFiredV1(
        alert_id="a",
        detector="cost",
        scope=AlertScope(tenant="acme"),
        value=2.0,
        threshold=1.0,
        current_window=window,
        at=AT,
        severity="critical",
        message="over budget",
        enforce=True,
    )

    row = json.loads(alert_row(ENVELOPE, event))

    assert row == {
        "event_id": 'evt-"1"',
        "event_time": "2026-11-22 12:00:00.123000",
        "alert_id": "a",
        "state": "fired",
        "detector": "cost",
        "tenant": "acme",
        "model_name": None,
        "adapter_version": None,
        "value": 2.0,
        "threshold": 1.0,
        "current_start": "2026-11-22 12:00:00.123000",
        "current_end": "2026-11-22 13:00:00.123000",
        "reference_start": None,
        "reference_end": None,
        "query_url": None,
        "at": "2026-11-22 12:00:00.123000",
        "severity": "critical",
        "message": "over budget",
        "enforce": True,
    }


def test_a_rollback_is_a_lifecycle_row() -> None:
    event = ModelRolledBackV1(
        model_name="bot", changed_by="ops", changed_at=AT, base_model="b", adapter_version="v1", reason="drift"
    )

    row = json.loads(lifecycle_row(ENVELOPE, event))

    assert (row["action"], row["adapter_version"], row["reason"], row["adapter_uri"]) == (
        "rolled_back",
        "v1",
        "drift",
        "",
    )
