"""Log lines are JSON with the service, and the event and trace being worked on."""

from __future__ import annotations

import json
import logging

from llmops_common.service.json_logs import JsonLineFormatter
from llmops_common.tracing import TraceContext, current_event_id, current_trace


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("llmops.test", logging.WARNING, __file__, 1, message, (), None)


def test_a_line_carries_service_event_and_trace() -> None:
    trace = TraceContext.new_root()
    event_token, trace_token = current_event_id.set("evt-1"), current_trace.set(trace)
    try:
        line = JsonLineFormatter("monitor").format(_record("disk nearly full"))
    finally:
        current_event_id.reset(event_token)
        current_trace.reset(trace_token)
    entry = json.loads(line)
    assert entry["service"] == "monitor"
    assert entry["level"] == "WARNING"
    assert entry["message"] == "disk nearly full"
    assert entry["event_id"] == "evt-1"
    assert entry["trace_id"] == trace.trace_id
    assert entry["ts"].endswith("+00:00")


def test_a_line_outside_any_event_has_no_ids() -> None:
    entry = json.loads(JsonLineFormatter("trainer").format(_record("started")))
    assert "event_id" not in entry
    assert "trace_id" not in entry


def test_a_calls_extra_fields_are_in_the_line_without_overriding_the_fixed_ones() -> None:
    record = _record("checkpoint stored")
    record.__dict__.update({"job_id": "job-7", "step": 40, "service": "spoofed"})
    entry = json.loads(JsonLineFormatter("trainer").format(record))
    assert (entry["job_id"], entry["step"], entry["service"]) == ("job-7", 40, "trainer")
    assert "args" not in entry
    assert "levelno" not in entry
