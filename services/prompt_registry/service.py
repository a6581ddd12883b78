"""The registry's writes: validated, published to `llmops.prompts`, and acknowledged once read back.

A write is acknowledged only after this instance's own replica has applied it, so a client reads its
own writes, and only if the log took it: of two concurrent writers, on one instance or two, the one
whose event came first wins (see `PromptCatalog`). A writer that asked for `expected_version` and
lost gets 409 with the current version; one that did not ask tries again on the new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from llmops_common.auth.keyring import Principal
from llmops_common.errors import ConflictError, ForbiddenError, PermanentError
from llmops_common.events import PromptLabelMovedV1, PromptVersionCreatedV1
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.kafka.replica import TopicReplica
from llmops_common.prompts.catalog import LATEST, PromptCatalog
from llmops_common.prompts.templates import check_prompt
from llmops_common.topics import PROMPTS

from .schemas import LabelRequest, VersionRequest
from .settings import Settings

ATTEMPTS = 100
"""Tries of a write without `expected_version` that keeps losing to concurrent writers. Each round of
a race has a winner in the log, so n writers racing all land within n tries."""


@dataclass(frozen=True)
class PromptWriter:
    """Creates versions and moves labels for the tenants' API keys."""

    catalog: PromptCatalog
    replica: TopicReplica
    publisher: EventPublisher
    settings: Settings
    topic: str = PROMPTS.name

    async def create_version(self, principal: Principal, name: str, request: VersionRequest) -> PromptVersionCreatedV1:
        """Saves a new immutable version of `name`."""
        check_prompt(
            request.kind,
            request.template,
            request.messages,
            request.variables,
            max_chars=self.settings.prompt_max_template_chars,
        )
        for _ in range(ATTEMPTS):
            history = self.catalog.find(principal.tenant, name)
            current = len(history.versions) if history else 0
            _check_expected(name, "version", request.expected_version, current)
            event = PromptVersionCreatedV1(
                tenant=principal.tenant,
                name=name,
                version=current + 1,
                kind=request.kind,
                template=request.template,
                messages=request.messages,
                variables=request.variables,
                parameters=request.parameters,
                commit_message=request.commit_message,
                author=principal.key_id,
                created_at=datetime.now(UTC),
            )
            if await self._write(event, event.change_id):
                return event
        raise ConflictError(f"prompt {name!r} kept changing; try again", detail={"name": name})

    async def move_label(
        self, principal: Principal, name: str, label: str, request: LabelRequest
    ) -> PromptLabelMovedV1:
        """Points `label` at a version; moving it back is the rollback."""
        if label == LATEST:
            raise PermanentError("`latest` always points at the newest version and cannot be moved")
        if label in self.settings.prompt_protected_labels and not principal.is_admin:
            raise ForbiddenError(
                f"label {label!r} is protected: moving it needs an API key with the admin role", detail={"label": label}
            )
        self.catalog.get(principal.tenant, name, version=request.version)  # 404 for an unknown prompt or version
        for _ in range(ATTEMPTS):
            current = self.catalog.history(principal.tenant, name).labels.get(label)
            _check_expected(name, f"label {label!r}", request.expected_version, current or 0)
            event = PromptLabelMovedV1(
                tenant=principal.tenant,
                name=name,
                label=label,
                version=request.version,
                previous_version=current,
                moved_by=principal.key_id,
                moved_at=datetime.now(UTC),
            )
            if await self._write(event, event.change_id):
                return event
        raise ConflictError(f"label {label!r} of {name!r} kept moving; try again", detail={"name": name})

    async def _write(self, event: PromptVersionCreatedV1 | PromptLabelMovedV1, change_id: str) -> bool:
        """Publishes the change and returns whether the log took it, once this replica has applied it."""
        envelope = await self.publisher.publish(event, topic=self.topic)
        await self.replica.wait_applied(envelope.id, self.settings.prompt_write_timeout_seconds)
        return bool(self.catalog.outcome(change_id))


def _check_expected(name: str, what: str, expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise ConflictError(
            f"{what} of prompt {name!r} is at {current}, not at the expected {expected}",
            detail={"name": name, "current_version": current, "expected_version": expected},
        )
