"""Every tenant's prompts, their versions and labels, as built by applying `llmops.prompts` in log order.

The rules make the log the arbiter between concurrent writers, whatever instance they ran on:
- a version is applied only if it is the next number for its prompt, so of two writers of the same
  version the first in the log wins and the other is rejected;
- a label move is applied only if its target version exists and its `previous_version` is where
  the label points at that moment: a compare-and-set in the log.
Every replica applies the same log with the same rules, so every replica holds the same state, and a
writer learns from `outcome` whether its change won.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..errors import NotFoundError
from ..events import Event, PromptLabelMovedV1, PromptVersionCreatedV1
from ..kafka.envelope import Envelope

LATEST = "latest"
"""The implicit label of a prompt's newest version; it cannot be moved."""


@dataclass
class PromptHistory:
    """One prompt: its versions in order, where its labels point, and when it last changed."""

    versions: list[PromptVersionCreatedV1] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def latest(self) -> PromptVersionCreatedV1:
        """The newest version."""
        return self.versions[-1]

    def labels_of(self, version: int) -> list[str]:
        """The labels that point at `version`, `latest` included."""
        labels = sorted(label for label, target in self.labels.items() if target == version)
        return [*labels, LATEST] if version == len(self.versions) else labels


@dataclass(frozen=True)
class PromptSummary:
    """A line of the prompt listing."""

    name: str
    latest_version: int
    labels: dict[str, int]
    updated_at: datetime | None


class PromptCatalog:
    """The state every replica of `llmops.prompts` builds; `apply` is its only writer."""

    def __init__(self) -> None:
        self._prompts: dict[tuple[str, str], PromptHistory] = {}
        self._outcomes: dict[str, bool] = {}

    def apply(self, event: Event, envelope: Envelope | None = None) -> None:
        """Applies one event of the topic, in log order; a change that breaks the rules is rejected."""
        if isinstance(event, PromptVersionCreatedV1):
            self._outcomes[event.change_id] = self._add_version(event)
        elif isinstance(event, PromptLabelMovedV1):
            self._outcomes[event.change_id] = self._move_label(event)

    def outcome(self, change_id: str) -> bool | None:
        """Whether a change was applied (True) or rejected (False); None while it has not been seen."""
        return self._outcomes.get(change_id)

    def history(self, tenant: str, name: str) -> PromptHistory:
        """A prompt's history, or `NotFoundError`."""
        history = self._prompts.get((tenant, name))
        if history is None:
            raise NotFoundError(f"prompt {name!r} does not exist", detail={"name": name})
        return history

    def find(self, tenant: str, name: str) -> PromptHistory | None:
        """A prompt's history, or None for a prompt that does not exist yet."""
        return self._prompts.get((tenant, name))

    def get(
        self, tenant: str, name: str, *, label: str | None = None, version: int | None = None
    ) -> PromptVersionCreatedV1:
        """The version a label or number names; the latest when neither is given."""
        history = self.history(tenant, name)
        if version is not None:
            if not 1 <= version <= len(history.versions):
                raise NotFoundError(
                    f"prompt {name!r} has no version {version}",
                    detail={"name": name, "version": version, "latest_version": len(history.versions)},
                )
            return history.versions[version - 1]
        if label is None or label == LATEST:
            return history.latest
        target = history.labels.get(label)
        if target is None:
            raise NotFoundError(
                f"prompt {name!r} has no label {label!r}",
                detail={"name": name, "label": label, "labels": sorted(history.labels)},
            )
        return history.versions[target - 1]

    def summaries(self, tenant: str, label: str | None = None) -> list[PromptSummary]:
        """The tenant's prompts by name, only those carrying `label` when it is given."""
        return [
            PromptSummary(name, len(history.versions), dict(sorted(history.labels.items())), history.updated_at)
            for (owner, name), history in sorted(self._prompts.items())
            if owner == tenant and (label is None or label == LATEST or label in history.labels)
        ]

    def _add_version(self, event: PromptVersionCreatedV1) -> bool:
        history = self._prompts.setdefault((event.tenant, event.name), PromptHistory())
        if event.version != len(history.versions) + 1:
            if not history.versions:
                del self._prompts[(event.tenant, event.name)]
            return False
        history.versions.append(event)
        history.updated_at = event.created_at
        return True

    def _move_label(self, event: PromptLabelMovedV1) -> bool:
        history = self._prompts.get((event.tenant, event.name))
        if history is None or event.label == LATEST or not 1 <= event.version <= len(history.versions):
            return False
        if history.labels.get(event.label) != event.previous_version:
            return False
        history.labels[event.label] = event.version
        history.updated_at = event.moved_at
        return True
