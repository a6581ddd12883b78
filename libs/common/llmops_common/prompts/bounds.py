"""Bounds on what one render may cost: output size, integer size, built strings, loop iterations, time.

A saved template runs on every request that references it, so a template that is small to store but
huge or slow to render (`{{ ''|center(50000000) }}`, `{{ ((10**1000)**1000)**10 }}`) would be a denial
of service. Each operator or filter that can build something much larger than its inputs is checked
*before* it computes, from the sizes of its inputs; the rendered output is counted as it streams; and
every loop iteration counts against a per-render budget that also carries the render's deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import do_center, do_format, do_indent, do_replace, do_slice
from jinja2.utils import pass_eval_context

MAX_INTEGER_BITS = 65_536
"""Largest integer an operator may build (about 19,700 decimal digits): arithmetic on bigger ones is slow."""

MAX_BUILT_CHARS = 1_000_000
"""Most characters (or items) an operator or filter may build in one step: `~`, `+`, `%`, center, indent..."""

MAX_SLICES = 10_000
"""Most columns the `slice` filter may cut a sequence into: each is a list, even when empty."""

LOOP_FILTER = "loop_bounded"
"""The filter every `{% for %}` iterates through, added when a template compiles, to count iterations."""

CONCAT_FILTER = "concat_bounded"
"""The filter every `~` becomes when a template compiles, so a doubling `~` chain stops at the bound."""

# A %-format conversion: flags, then a width and a precision, each digits or `*` (taken from the args).
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


class RenderRefusedError(SecurityError):
    """A render stopped by a bound; the message names the bound, so the 422 says why."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """The per-render bounds a deployment may tune (see the `LLMOPS_PROMPT_RENDER_*` settings)."""

    max_output_chars: int = 256 * 1024
    """Most characters one render may output, all messages of a chat prompt together."""
    max_iterations: int = 100_000
    """Most `{% for %}` iterations one render may run, nested loops together."""
    timeout_seconds: float = 2.0
    """How long one render may take; checked on every iteration and output chunk."""


@dataclass(slots=True)
class RenderBudget:
    """What one render has used so far, against its limits; lives in a context variable for the render."""

    limits: RenderLimits
    deadline: float = field(init=False)
    iterations: int = 0
    output_chars: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.timeout_seconds

    def iterate(self) -> None:
        """Count one loop iteration; refuse past the iteration limit or the deadline."""
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise RenderRefusedError(f"refused: the render passed {self.limits.max_iterations} loop iterations")
        self.check_time()

    def output(self, chunk: str) -> None:
        """Count a chunk of output; refuse past the output limit or the deadline."""
        self.output_chars += len(chunk)
        if self.output_chars > self.limits.max_output_chars:
            raise RenderRefusedError(f"refused: the render passed {self.limits.max_output_chars} output characters")
        self.check_time()

    def check_time(self) -> None:
        """Refuse once the render's deadline has passed."""
        if time.monotonic() > self.deadline:
            raise RenderRefusedError(f"refused: the render took over {self.limits.timeout_seconds} seconds")


DEFAULT_LIMITS = RenderLimits()
"""The bounds a render takes when its caller gives none."""

CURRENT_BUDGET: ContextVar[RenderBudget | None] = ContextVar("prompt_render_budget", default=None)
"""The budget of the render running in this thread or task; None outside a render (no counting)."""


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `**`, `*`, `+` and `%` whose result would pass a bound, before computing it."""
    ints = _is_int(left) and _is_int(right)
    if operator == "**" and ints and right > 0:
        _check_bits(left.bit_length() * right)
    elif operator == "*" and ints:
        _check_bits(left.bit_length() + right.bit_length())
    elif operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        _check_built(len(left) + len(right))
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right)


def check_percent_format(template: str, args: Any) -> None:
    """Refuse a %-format whose widths and precisions together pass `MAX_BUILT_CHARS`."""
    values = args if isinstance(args, tuple) else (args,)
    total = len(template)
    starred = False
    for match in _CONVERSION.finditer(template):
        for size in match.groups():
            if size == "*":
                starred = True
            elif size is not None:
                total += int(size)
    if starred:
        # `%*d` takes its width from the arguments; count every integer one, rather than track which.
        total += sum(abs(value) for value in values if _is_int(value))
    _check_built(total)


def bound_tree(tree: nodes.Template) -> nodes.Template:
    """Route every `{% for %}` through `LOOP_FILTER` and every `~` through `CONCAT_FILTER`, in place."""
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
    for concat in list(tree.find_all(nodes.Concat)):
        items = nodes.List(concat.nodes, lineno=concat.lineno)
        concat.nodes = [nodes.Filter(items, CONCAT_FILTER, [], [], None, None, lineno=concat.lineno)]
    return tree


def bounded_filters() -> dict[str, Any]:
    """The filters that add the bounds, by name: the two the compiled tree calls and guarded builtins."""
    return {
        LOOP_FILTER: _loop_bounded,
        CONCAT_FILTER: _concat_bounded,
        "center": _center,
        "indent": _indent,
        "replace": _replace,
        "format": _format,
        "slice": _slice,
    }


def _loop_bounded(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = CURRENT_BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.iterate()
        yield item


def _concat_bounded(items: list[Any]) -> str:
    texts = [str(item) for item in items]
    _check_built(sum(len(text) for text in texts))
    return "".join(texts)


def _center(value: Any, width: int = 80) -> str:
    _check_built(width if _is_int(width) else 0)
    return do_center(value, width)


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    per_line = width if isinstance(width, int) else len(str(width))
    _check_built(len(text) + (text.count("\n") + 1) * max(per_line, 0))
    return do_indent(text, width, first, blank)


@pass_eval_context
def _replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
    text, old_text, new_text = str(value), str(old), str(new)
    found = text.count(old_text) if old_text else len(text) + 1
    if count is not None and _is_int(count) and count >= 0:
        found = min(found, count)
    _check_built(len(text) + found * max(len(new_text) - len(old_text), 0))
    return do_replace(eval_ctx, value, old, new, count)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_percent_format(str(value), kwargs or args)
    return do_format(value, *args, **kwargs)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    if _is_int(slices) and slices > MAX_SLICES:
        raise RenderRefusedError(f"refused: slice takes at most {MAX_SLICES} columns")
    return do_slice(value, slices, fill_with)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: int) -> None:
    if bits > MAX_INTEGER_BITS:
        raise RenderRefusedError(f"refused: the integer would pass {MAX_INTEGER_BITS} bits")


def _check_built(size: int) -> None:
    if size > MAX_BUILT_CHARS:
        raise RenderRefusedError(f"refused: the result would pass {MAX_BUILT_CHARS} characters")
