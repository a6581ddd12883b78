"""An error after a stream began is one SSE event in OpenAI's error shape, typed by its status as the
same error before the stream would be."""

from __future__ import annotations

import json

import pytest

from services.model_server.errors import error_type
from services.model_server.protocol import Served
from services.model_server.responses import ChunkWriter

SERVED = Served(model="support-bot", base_model="tiny", adapter_version=None, canary_arm=None)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (504, "timeout", "timeout_error"),
        (503, "engine_unavailable", "service_unavailable_error"),
        (500, "engine_error", "server_error"),
    ],
)
def test_a_stream_error_is_typed_by_its_status(status: int, code: str, kind: str) -> None:
    event = ChunkWriter("chat", "chatcmpl-1", 0, SERVED, include_usage=False).error(status, "it failed", code)

    assert event.startswith(b"data: ")
    assert event.endswith(b"\n\n")
    body = json.loads(event.removeprefix(b"data: "))
    assert body == {"error": {"message": "it failed", "type": kind, "param": None, "code": code, "status": status}}
    assert error_type(status) == kind
