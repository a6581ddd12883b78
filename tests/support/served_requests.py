"""The telemetry of a served request, as the model server publishes it, for tests that need one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from llmops_common.events import InferenceCompletedV1


def served_request(request_id: str, tenant: str, **changes: Any) -> InferenceCompletedV1:
    """A successful request of `tenant` that finished now; `changes` set any other field."""
    fields: dict[str, Any] = {
        "request_id": request_id,
        "tenant": tenant,
        "model_name": "support-bot",
        "base_model": "tiny",
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "latency_ms": 120.0,
        "status": "ok",
        "http_status": 200,
        "started_at": datetime.now(UTC),
    }
    return InferenceCompletedV1(**{**fields, **changes})
