"""LoRA adapters on the transformers engine's base model, through PEFT's multi-adapter support.

Each request picks its adapter by name in the same forward pass (`adapter_names`), so one batch can mix
adapters and the base model. Calls block and change the model: the engine runs them between steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from transformers import PreTrainedModel

from .base import AdapterLoadError, AdapterSpec

BASE = "__base__"  # PEFT's name for "no adapter" in a mixed batch


class PeftAdapters:
    """The model to run, wrapped by PEFT once the first adapter arrives."""

    def __init__(self, base: PreTrainedModel, reload_base: Callable[[], PreTrainedModel]) -> None:
        self._base = base
        self._reload_base = reload_base
        self._peft: Any = None
        self.loaded: dict[str, AdapterSpec] = {}

    @property
    def model(self) -> Any:
        """What to call for a forward pass."""
        return self._peft if self._peft is not None else self._base

    def forward_kwargs(self, adapters: Sequence[str | None]) -> dict[str, Any]:
        """The extra arguments that give each row of a batch its adapter."""
        if self._peft is None:
            return {}
        return {"adapter_names": [name or BASE for name in adapters]}

    def load(self, spec: AdapterSpec) -> None:
        """Loads `spec`; on failure the model is as before and `AdapterLoadError` says why."""
        from peft import PeftConfig, PeftModel

        if spec.name in self.loaded:
            return
        try:
            # Reading the config first turns a missing or foreign folder into a clean error, before PEFT
            # touches the model.
            PeftConfig.from_pretrained(str(spec.path))
        except Exception as error:
            raise AdapterLoadError(f"adapter {spec.name} at {spec.path} has no usable PEFT config: {error}") from error
        try:
            if self._peft is None:
                self._peft = PeftModel.from_pretrained(self._base, str(spec.path), adapter_name=spec.name)
                self._peft.eval()
            else:
                self._peft.load_adapter(str(spec.path), adapter_name=spec.name, is_trainable=False)
        except Exception as error:
            self._undo_failed_load(spec.name)
            raise AdapterLoadError(f"adapter {spec.name} at {spec.path} failed to load: {error}") from error
        self.loaded[spec.name] = spec

    def unload(self, name: str) -> None:
        """Drops an adapter no running request uses."""
        if self.loaded.pop(name, None) is None:
            return
        if self.loaded:
            self._peft.delete_adapter(name)
            return
        # PEFT keeps a deleted last adapter active, and every later forward pass fails on its name: take the
        # base model back without LoRA layers, and wrap it again when the next adapter arrives.
        self._base, self._peft = self._peft.unload(), None

    def _undo_failed_load(self, name: str) -> None:
        if self._peft is None or not self.loaded:
            # PEFT may have half-wrapped the base model: start again from its weights on disk.
            self._peft = None
            self._base = self._reload_base()
            return
        if name in self._peft.peft_config:
            self._peft.delete_adapter(name)
