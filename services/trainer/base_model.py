"""The base model a trainer fine-tunes: what to load, and the name requests and lifecycle events give it.

Found on first use, not at start: a trainer with no base model yet (none configured, `llmops model init`
not run) still starts and reports ready, and each job it gets fails with the reason instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from llmops_common.errors import PermanentError
from llmops_common.models.default_base import public_model_name, resolve_base_model
from llmops_common.storage.artifacts import ArtifactStore

from .settings import Settings


class NoBaseModelError(PermanentError):
    """Nothing to fine-tune: no base model is configured or stored."""


@dataclass(frozen=True)
class BaseModel:
    """A resolved base model: the `from_pretrained` argument, and its public name."""

    path: str
    name: str


class TrainerBaseModel:
    """Resolves the configured base model once (a stored default is unpacked then) and keeps it."""

    def __init__(self, settings: Settings, artifacts: ArtifactStore) -> None:
        self._settings = settings
        self._artifacts = artifacts
        self._lock = threading.Lock()
        self._resolved: BaseModel | None = None

    def resolve(self) -> BaseModel:
        """The base model; `NoBaseModelError` when there is none."""
        with self._lock:
            if self._resolved is None:
                try:
                    path = resolve_base_model(self._settings.base_model, self._artifacts, self._settings.data_dir)
                except LookupError as error:
                    raise NoBaseModelError(str(error)) from error
                self._resolved = BaseModel(path, self._settings.base_model_name or public_model_name(path))
            return self._resolved

    def name(self) -> str:
        """The name requests give the base model."""
        return self.resolve().name
