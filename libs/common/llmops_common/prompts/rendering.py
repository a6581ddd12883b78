"""Renders the prompts a catalog holds, compiling each version once: for the registry's preview, the
model server's prompt references and the evaluator."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping

from ..events import PromptVersionCreatedV1
from ..settings import PlatformSettings
from .bounds import DEFAULT_LIMITS, RenderLimits
from .catalog import PromptCatalog
from .templates import CompiledPrompt, RenderedPrompt, RenderError, compile_version

COMPILED_VERSIONS = 4096
"""Compiled versions kept; versions are immutable, so an entry never goes stale, it only ages out."""


class PromptRenderer:
    """Looks a version up in the catalog and renders it with a caller's values."""

    def __init__(
        self, catalog: PromptCatalog, capacity: int = COMPILED_VERSIONS, limits: RenderLimits = DEFAULT_LIMITS
    ) -> None:
        self._catalog = catalog
        self._limits = limits
        self._capacity = capacity
        self._compiled: OrderedDict[tuple[str, str, int], CompiledPrompt] = OrderedDict()

    def render(
        self, tenant: str, name: str, *, label: str | None, version: int | None, values: Mapping[str, object]
    ) -> tuple[PromptVersionCreatedV1, RenderedPrompt]:
        """The version a label or number names (the latest by default), rendered with `values`."""
        event = self._catalog.get(tenant, name, label=label, version=version)
        return event, self.compiled(event).render(values, self._limits)

    async def render_off_loop(
        self, tenant: str, name: str, *, label: str | None, version: int | None, values: Mapping[str, object]
    ) -> tuple[PromptVersionCreatedV1, RenderedPrompt]:
        """`render` in a worker thread, so a slow template never stalls the event loop.

        The render checks its own deadline and stops; this timeout (a little later) is the last line,
        since a thread cannot be killed: it only stops waiting, with the same 422.
        """
        timeout = self._limits.timeout_seconds * 2
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.render, tenant, name, label=label, version=version, values=values), timeout
            )
        except TimeoutError:
            problem = f"refused: the render took over {self._limits.timeout_seconds} seconds"
            raise RenderError(problem, detail={"problem": problem}) from None

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


def render_limits(settings: PlatformSettings) -> RenderLimits:
    """The render bounds the `LLMOPS_PROMPT_RENDER_*` settings give."""
    return RenderLimits(
        max_output_chars=settings.prompt_render_max_chars,
        max_iterations=settings.prompt_render_max_iterations,
        timeout_seconds=settings.prompt_render_timeout_seconds,
    )
