"""Structured logs: one JSON object per line, with the service, the event id and the trace id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from ..tracing import current_event_id, current_trace

_PLAIN_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
"""What every record has; anything else came in a call's `extra` and belongs in the line."""


class JsonLineFormatter(logging.Formatter):
    """Formats a record as a JSON line that log shippers can index without parsing rules."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # `extra` fields (job_id, step, topic...) go in as they are, after the fixed ones, never over them.
        for name, value in vars(record).items():
            if name not in _PLAIN_RECORD_FIELDS and name not in entry:
                entry[name] = value
        if event_id := current_event_id.get():
            entry["event_id"] = event_id
        if trace := current_trace.get():
            entry["trace_id"] = trace.trace_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logging(service: str, level: str) -> None:
    """Sends every log record of the process, uvicorn's and FastStream's included, to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # aiokafka logs every reconnect attempt at INFO; its warnings are what an operator needs.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
