"""Engine errors beyond the interface's own, shared by both engines."""

from __future__ import annotations

from .base import EngineError


class PromptTooLongError(EngineError):
    """The prompt leaves no room in the model's context: the caller's fault, a 400 over HTTP."""


class UnknownAdapterError(EngineError):
    """A request names an adapter that is being unloaded."""
