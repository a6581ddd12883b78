"""How each telemetry event becomes one JSONEachRow line of its ClickHouse table (see infra/clickhouse).

Events whose fields are exactly their table's columns are written as the validated model's own JSON, with
the envelope's id and time put in front. The model is serialised again rather than the record's body
passed through: a body may repeat a key, which pydantic reads as the last value and ClickHouse as the
first, so only the model's JSON says exactly what was validated. The other events are flattened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from llmops_common.events import (
    AlertFiredV1,
    AlertResolvedV1,
    DatasetSealedV1,
    EvalCompletedV1,
    Event,
    FeedbackSubmittedV1,
    InferenceCompletedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
    TrainingCompletedV1,
)
from llmops_common.kafka.envelope import Envelope
from llmops_common.storage.clickhouse_text import json_each_row
from llmops_common.topics import (
    ALERTS,
    DATA_DATASETS,
    EVAL_COMPLETED,
    FEEDBACK,
    INFERENCE_COMPLETED,
    MODELS_LIFECYCLE,
    TRAINING_COMPLETED,
)

RowLine = Callable[[Envelope, Event], bytes]
"""The table row of a validated event, from its envelope and its model, as one JSONEachRow line."""


@dataclass(frozen=True)
class TableRoute:
    """Where the events of one topic go: the table, the event types accepted, and the row mapping."""

    table: str
    events: tuple[type[Event], ...]
    row_line: RowLine
    blocking: bool = False
    """The mapping reads the artifact store, so rows are built in a worker thread, not on the event loop."""

    @property
    def accepted(self) -> dict[str, type[Event]]:
        """The accepted event models by CloudEvents type."""
        return {model.event_type: model for model in self.events}


def _envelope_prefix(envelope: Envelope) -> bytes:
    # This runs for every stored event, so the cheap forms: ids of letters, digits and dashes (UUIDs)
    # need no JSON escaping, and the (always aware) time goes as Unix seconds, which ClickHouse reads
    # exactly as the ISO text, to the millisecond, at a fifth of the cost to write.
    event_id = f'"{envelope.id}"' if envelope.id.replace("-", "").isalnum() else json.dumps(envelope.id)
    return f'{{"event_id":{event_id},"event_time":{envelope.time.timestamp()!r}'.encode()


def model_with_envelope(envelope: Envelope, event: Event) -> bytes:
    """The event's JSON object, with `event_id` and `event_time` in front, as one line.

    Pydantic's compact JSON has no line breaks, and a closed model has no `event_id` or `event_time`.
    """
    body: bytes = type(event).__pydantic_serializer__.to_json(event)
    separator = b"" if body == b"{}" else b","
    return _envelope_prefix(envelope) + separator + body[1:] + b"\n"


def _with_envelope(envelope: Envelope, row: Mapping[str, object]) -> bytes:
    return json_each_row([{"event_id": envelope.id, "event_time": envelope.time, **row}])


def training_row(envelope: Envelope, event: Event) -> bytes:
    """A training_completed row: the adapter's claim check flattened."""
    assert isinstance(event, TrainingCompletedV1)  # noqa: S101 - the route accepts only this type
    row = event.model_dump(mode="json", exclude={"adapter"})
    row["adapter_uri"] = event.adapter.uri if event.adapter else ""
    row["adapter_sha256"] = event.adapter.sha256 if event.adapter else ""
    return _with_envelope(envelope, row)


_LIFECYCLE_ACTIONS: dict[type[Event], str] = {
    ModelPromotedV1: "promoted",
    ModelCanaryStartedV1: "canary_started",
    ModelRolledBackV1: "rolled_back",
    ModelRetiredV1: "retired",
}


def lifecycle_row(envelope: Envelope, event: Event) -> bytes:
    """A model_lifecycle row: one shape for promotions, canaries, rollbacks and retirements."""
    row: dict[str, object] = {
        "action": _LIFECYCLE_ACTIONS[type(event)],
        "model_name": getattr(event, "model_name", ""),
        "changed_by": getattr(event, "changed_by", ""),
        "changed_at": getattr(event, "changed_at", envelope.time),
        "base_model": getattr(event, "base_model", ""),
        "reason": getattr(event, "reason", ""),
    }
    if isinstance(event, ModelCanaryStartedV1):
        row["adapter_version"] = event.stable_adapter_version
        row["candidate_adapter_version"] = event.candidate_adapter_version
        row["candidate_percent"] = event.candidate_percent
        row["adapter_uri"] = event.candidate_adapter.uri if event.candidate_adapter else ""
    elif isinstance(event, ModelPromotedV1 | ModelRolledBackV1):
        row["adapter_version"] = event.adapter_version
        row["adapter_uri"] = event.adapter.uri if event.adapter else ""
    if isinstance(event, ModelPromotedV1):
        row["eval_id"] = event.eval_id
    return _with_envelope(envelope, row)


def alert_row(envelope: Envelope, event: Event) -> bytes:
    """An alerts row: the scope and the windows flattened; state says fired or resolved."""
    assert isinstance(event, AlertFiredV1 | AlertResolvedV1)  # noqa: S101 - the route accepts only these
    reference = event.reference_window
    row: dict[str, object] = {
        "alert_id": event.alert_id,
        "state": "fired" if isinstance(event, AlertFiredV1) else "resolved",
        "detector": event.detector,
        "tenant": event.scope.tenant,
        "model_name": event.scope.model_name,
        "adapter_version": event.scope.adapter_version,
        "value": event.value,
        "threshold": event.threshold,
        "current_start": event.current_window.start,
        "current_end": event.current_window.end,
        "reference_start": reference.start if reference else None,
        "reference_end": reference.end if reference else None,
        "query_url": event.query_url,
        "at": event.at,
    }
    if isinstance(event, AlertFiredV1):
        row.update(severity=event.severity, message=event.message, enforce=event.enforce)
    return _with_envelope(envelope, row)


ProfileReader = Callable[[DatasetSealedV1], str]
"""The JSON text of a sealed dataset's profile document, or '' when it has none or it cannot be read."""


def dataset_row(read_profile: ProfileReader) -> RowLine:
    """A dataset_profiles row maker: the event's counts, and the profile document as JSON text."""

    def row_line(envelope: Envelope, event: Event) -> bytes:
        assert isinstance(event, DatasetSealedV1)  # noqa: S101 - the route accepts only this type
        return _with_envelope(
            envelope,
            {
                "tenant": event.tenant,
                "name": event.name,
                "version": event.version,
                "artifact_uri": event.artifact.uri,
                "artifact_sha256": event.artifact.sha256,
                "artifact_size_bytes": event.artifact.size_bytes,
                "rows": event.rows,
                "train_rows": event.train_rows,
                "eval_rows": event.eval_rows,
                "profile_uri": event.profile.uri if event.profile else "",
                "profile_sha256": event.profile.sha256 if event.profile else "",
                "profile": read_profile(event),
            },
        )

    return row_line


def telemetry_routes(read_profile: ProfileReader) -> dict[str, TableRoute]:
    """The catalog topics the monitor sinks, by name, and the table each goes to."""
    return {
        INFERENCE_COMPLETED.name: TableRoute("inference_completed", (InferenceCompletedV1,), model_with_envelope),
        FEEDBACK.name: TableRoute("feedback", (FeedbackSubmittedV1,), model_with_envelope),
        EVAL_COMPLETED.name: TableRoute("eval_completed", (EvalCompletedV1,), model_with_envelope),
        TRAINING_COMPLETED.name: TableRoute("training_completed", (TrainingCompletedV1,), training_row),
        MODELS_LIFECYCLE.name: TableRoute("model_lifecycle", tuple(_LIFECYCLE_ACTIONS), lifecycle_row),
        DATA_DATASETS.name: TableRoute(
            "dataset_profiles", (DatasetSealedV1,), dataset_row(read_profile), blocking=True
        ),
        ALERTS.name: TableRoute("alerts", (AlertFiredV1, AlertResolvedV1), alert_row),
    }
