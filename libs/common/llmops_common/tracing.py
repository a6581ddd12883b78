"""W3C trace context carried from HTTP requests into events and from events into logs."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    """The trace a piece of work belongs to, and the span that caused it."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def parse(cls, header: str | None) -> TraceContext | None:
        """Reads a `traceparent` header; a malformed one is ignored, as the W3C spec asks."""
        match = _TRACEPARENT.match(header or "")
        if match is None or match.group(1) == "0" * 32:
            return None
        return cls(match.group(1), match.group(2), match.group(3))

    @classmethod
    def new_root(cls) -> TraceContext:
        """Starts a new trace."""
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    def child(self) -> TraceContext:
        """A new span in the same trace."""
        return TraceContext(self.trace_id, secrets.token_hex(8), self.flags)

    def header(self) -> str:
        """The `traceparent` header value."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


current_trace: ContextVar[TraceContext | None] = ContextVar("current_trace", default=None)
current_event_id: ContextVar[str | None] = ContextVar("current_event_id", default=None)
