"""The canaries in progress, kept from the compacted `llmops.models.lifecycle` by a topic replica.

A model has a canary in progress while its latest lifecycle event is a `ModelCanaryStartedV1`; any later
event about the model (a promotion, a rollback, a retirement, another canary) ends it. A canary is known
by the CloudEvents id of the event that started it, so a canary started again is a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from llmops_common.events import Event, ModelCanaryStartedV1, ModelPromotedV1, ModelRetiredV1, ModelRolledBackV1
from llmops_common.kafka.envelope import Envelope


@dataclass(frozen=True)
class Canary:
    """A canary in progress: the event that started it, that event's id, and when it started."""

    event_id: str
    event: ModelCanaryStartedV1
    started_at: datetime
    """The CloudEvents time of the event: the model server routes to the candidate only once it has read
    the event, so no candidate traffic comes earlier (`changed_at` may be set well before publishing)."""

    @property
    def model_name(self) -> str:
        """The deployed model the canary is of."""
        return self.event.model_name

    @property
    def stable_version(self) -> str:
        """The stable adapter version as telemetry records it ('' for the bare base model)."""
        return self.event.stable_adapter_version or ""


class CanaryBoard:
    """Each model's canary in progress; fed the lifecycle topic's events in log order."""

    def __init__(self) -> None:
        self._canaries: dict[str, Canary] = {}

    def apply(self, event: Event, envelope: Envelope) -> None:
        """Applies one lifecycle event: a canary starts, or the model's canary ends."""
        if isinstance(event, ModelCanaryStartedV1):
            self._canaries[event.model_name] = Canary(envelope.id, event, envelope.time)
        elif isinstance(event, ModelPromotedV1 | ModelRolledBackV1 | ModelRetiredV1):
            self._canaries.pop(event.model_name, None)

    def in_progress(self) -> list[Canary]:
        """The canaries in progress, by model name."""
        return [self._canaries[name] for name in sorted(self._canaries)]
