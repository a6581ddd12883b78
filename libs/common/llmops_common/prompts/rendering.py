"""Renders the prompts a catalog holds, compiling each version once: for the registry's preview, the
model server's prompt references and the evaluator."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from ..events import PromptVersionCreatedV1
from .catalog import PromptCatalog
from .templates import CompiledPrompt, RenderedPrompt, compile_version

COMPILED_VERSIONS = 4096
"""Compiled versions kept; versions are immutable, so an entry never goes stale, it only ages out."""


class PromptRenderer:
    """Looks a version up in the catalog and renders it with a caller's values."""

    def __init__(self, catalog: PromptCatalog, capacity: int = COMPILED_VERSIONS) -> None:
        self._catalog = catalog
        self._capacity = capacity
        self._compiled: OrderedDict[tuple[str, str, int], CompiledPrompt] = OrderedDict()

    def render(
        self, tenant: str, name: str, *, label: str | None, version: int | None, values: Mapping[str, object]
    ) -> tuple[PromptVersionCreatedV1, RenderedPrompt]:
        """The version a label or number names (the latest by default), rendered with `values`."""
        event = self._catalog.get(tenant, name, label=label, version=version)
        return event, self.compiled(event).render(values)

    def compiled(self, event: PromptVersionCreatedV1) -> CompiledPrompt:
        """The version's compiled templates, from the cache when it holds them."""
        key = (event.tenant, event.name, event.version)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = compile_version(event)
            if len(self._compiled) > self._capacity:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        return compiled
