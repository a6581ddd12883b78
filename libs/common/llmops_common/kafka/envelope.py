"""CloudEvents 1.0 in Kafka binary content mode: attributes in `ce_*` headers, the JSON body as value."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import cast

from pydantic import ValidationError

from ..errors import InvalidEventError
from ..events import EVENT_MODELS, Event
from ..tracing import TraceContext, current_trace

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_id", "ce_type", "ce_source", "ce_specversion")
STANDARD_HEADERS = frozenset({*REQUIRED_HEADERS, "ce_time", "content-type", "traceparent"})
NO_EXTENSIONS: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class Envelope:
    """The CloudEvents attributes of one event; read-only by convention.

    Not frozen: one is built for every consumed event, and a frozen dataclass takes three times as long.
    """

    id: str
    type: str
    source: str
    time: datetime
    traceparent: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)
    """Extension attributes such as `correlationid` and `replyto`, without the `ce_` prefix."""

    def headers(self) -> dict[str, str]:
        """The Kafka headers of this envelope."""
        headers = {
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_specversion": SPEC_VERSION,
            "ce_time": self.time.isoformat(),
            "content-type": CONTENT_TYPE,
        }
        headers.update({f"ce_{name}": value for name, value in self.extensions.items()})
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers


def new_envelope(event: Event, source: str, **extensions: str) -> Envelope:
    """An envelope for a new event, in the active trace when there is one."""
    trace = current_trace.get()
    return Envelope(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source=source,
        time=datetime.now(UTC),
        traceparent=trace.child().header() if trace else None,
        extensions=extensions,
    )


def decode_headers(raw: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """Kafka headers as a dict of strings; undecodable values make the message invalid."""
    try:
        return {name: (value or b"").decode() for name, value in raw}
    except UnicodeDecodeError as error:
        raise InvalidEventError(f"a header is not UTF-8: {error}") from error


def parse_envelope(headers: Mapping[str, str]) -> Envelope:
    """Reads and checks the CloudEvents attributes of a message."""
    get = headers.get  # called once per header name: this runs for every consumed event
    event_id, event_type, source, spec = get("ce_id"), get("ce_type"), get("ce_source"), get("ce_specversion")
    if not (event_id and event_type and source and spec):
        missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
        raise InvalidEventError(f"not a CloudEvent: missing headers {', '.join(missing)}")
    if spec != SPEC_VERSION:
        raise InvalidEventError(f"unsupported ce_specversion {spec!r}")
    content_type, ce_time, traceparent = get("content-type"), get("ce_time"), get("traceparent")
    if content_type is not None and not content_type.startswith(CONTENT_TYPE):
        raise InvalidEventError(f"unsupported content-type {content_type!r}")
    try:
        time = datetime.fromisoformat(ce_time) if ce_time else datetime.now(UTC)
    except ValueError as error:
        raise InvalidEventError(f"ce_time is not RFC 3339: {ce_time!r}") from error
    if time.tzinfo is None:
        # As for the times in event bodies: a naive time means nothing certain, and would not compare.
        raise InvalidEventError(f"ce_time has no UTC offset, which RFC 3339 requires: {ce_time!r}")
    # Most events carry no extension: the headers beyond the standard ones are looked at only if any.
    standard = len(REQUIRED_HEADERS) + (content_type is not None) + (ce_time is not None) + (traceparent is not None)
    extensions = _extensions(headers) if len(headers) > standard else NO_EXTENSIONS
    return Envelope(event_id, event_type, source, time, traceparent, extensions)


def _extensions(headers: Mapping[str, str]) -> dict[str, str]:
    return {name[3:]: headers[name] for name in headers.keys() - STANDARD_HEADERS if name.startswith("ce_")}


def decode_event(envelope: Envelope, value: bytes | None, accepted: Mapping[str, type[Event]]) -> Event:
    """Validates a message body against the model of its `ce_type`."""
    model = accepted.get(envelope.type)
    if model is None:
        known = "known" if envelope.type in EVENT_MODELS else "unknown"
        raise InvalidEventError(f"{known} event type {envelope.type!r} is not accepted here")
    try:
        # The model's validator itself: `model_validate_json` adds argument handling on every event.
        return cast(Event, model.__pydantic_validator__.validate_json(value or b""))
    except ValidationError as error:
        raise InvalidEventError(f"{envelope.type} failed validation: {_summarise(error)}") from error


def trace_of(envelope: Envelope) -> TraceContext | None:
    """The trace an incoming event belongs to."""
    return TraceContext.parse(envelope.traceparent)


def _summarise(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)
