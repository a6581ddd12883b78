"""Fills a telemetry store with synthetic rows in ClickHouse itself (`INSERT ... SELECT FROM numbers`):
ten million requests take a minute, where events through Kafka would take far longer."""

from __future__ import annotations

from datetime import datetime, timedelta

from llmops_common.storage.telemetry import TelemetryStore

TENANTS = 4
MODELS = 5
FILL_CHUNK = 1_000_000

_INFERENCE = """
INSERT INTO inference_completed (event_id, event_time, request_id, tenant, model_name, base_model,
    adapter_version, prompt_tokens, completion_tokens, time_to_first_token_ms, latency_ms, cost_usd,
    finish_reason, status, http_status, started_at, prompt_text, completion_text, text_capture)
SELECT
    concat('e', toString(n)) AS event_id,
    {end:DateTime64(3)} - toIntervalMillisecond(intDiv(({total:UInt64} - n) * {span_ms:UInt64}, {total:UInt64}))
        AS event_time,
    concat('r', toString(n)),
    concat('tenant-', toString(n % {tenants:UInt32})),
    concat('model-', toString(intHash32(n) % {models:UInt32})),
    'base',
    'v1',
    toUInt32(40 + cityHash64(n, 1) % 60),
    if(failed, 0, toUInt32(80 + cityHash64(n, 2) % 120)),
    if(failed, NULL, toFloat64(50 + cityHash64(n, 3) % 150)),
    toFloat64(200 + cityHash64(n, 4) % 900),
    0.00001 * (cityHash64(n, 5) % 50),
    if(failed, 'error', 'stop'),
    if(failed, 'error', 'ok'),
    if(failed, 500, 200),
    event_time,
    concat('question ', toString(cityHash64(n, 6) % 5000), ' about the invoice of my account'),
    if(failed, NULL, repeat('answer ', 5 + cityHash64(n, 7) % 30)),
    'redacted'
FROM (SELECT number + {offset:UInt64} AS n, cityHash64(number + {offset:UInt64}, 8) % 100 < 2 AS failed
      FROM numbers({count:UInt64}))
"""

_FEEDBACK = """
INSERT INTO feedback (event_id, event_time, feedback_id, request_id, tenant, model_name, score, submitted_at)
SELECT concat('f', toString(number)),
    {end:DateTime64(3)} - toIntervalMillisecond(intDiv(({total:UInt64} - number) * {span_ms:UInt64}, {total:UInt64})),
    concat('f', toString(number)), concat('r', toString(number * 17)),
    concat('tenant-', toString(number % {tenants:UInt32})),
    concat('model-', toString(intHash32(number) % {models:UInt32})),
    if(cityHash64(number, 1) % 10 < 2, -1, 1),
    now64(3)
FROM numbers({total:UInt64})
"""

_LIFECYCLE = """
INSERT INTO model_lifecycle (event_id, event_time, action, model_name, base_model, adapter_version, changed_by,
    changed_at)
SELECT concat('l', toString(number)), {at:DateTime64(3)}, 'promoted', concat('model-', toString(number)), 'base',
    'v1', 'bench', {at:DateTime64(3)}
FROM numbers({models:UInt32})
"""


def fill(store: TelemetryStore, rows: int, end: datetime, span: timedelta, feedback_rows: int) -> None:
    """`rows` requests evenly over `span` up to `end`, feedback on them, and a promotion of every model
    two days before `end`."""
    span_ms = int(span.total_seconds() * 1000)
    common = {"end": end, "total": rows, "span_ms": span_ms, "tenants": TENANTS, "models": MODELS}
    for offset in range(0, rows, FILL_CHUNK):
        store.command(_INFERENCE, {**common, "offset": offset, "count": min(FILL_CHUNK, rows - offset)})
    store.command(_FEEDBACK, {**common, "total": feedback_rows})
    store.command(_LIFECYCLE, {"at": end - timedelta(days=2), "models": MODELS})
