"""The Jinja environment prompts render in, and the static checks that refuse sandbox escapes at save time.

Two layers, on purpose. `find_refusal` reads a parsed template and refuses what a prompt never needs
(private attributes, method calls, imports, Jinja's globals) so an author hears about it when saving.
`PromptEnvironment` is the layer that holds even for a template that skipped that check: it has no
globals and no loader, and it only reads keys of dicts, indexes of sequences and the counters of `loop`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from jinja2 import BaseLoader, Environment, StrictUndefined, Undefined, nodes
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .bounds import bounded_filters, check_binop

LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem"}
)
"""Attributes of `loop` inside `{% for %}` that a template may read."""

LOOP_METHODS = frozenset({"cycle", "changed"})
"""Methods of `loop` a template may call: `loop.cycle('odd', 'even')` is plain Jinja and harmless."""

REFUSED_NAMES = frozenset(DEFAULT_NAMESPACE) | {"self"}
"""Jinja's default globals and `self`: the render environment has none of them, so the check refuses them."""

MAX_REPEAT = 100_000
"""Most items (or characters) `*` may build from a sequence, so `'a' * 10**9` cannot exhaust memory."""

MAX_EXPONENT = 1_000
"""Largest exponent `**` takes, so `10 ** 10 ** 9` cannot pin a CPU."""

# Filters whose argument at this position names an attribute (read with getitem at render time).
_ATTRIBUTE_ARGUMENT = {"selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0, "unique": 1, "min": 1, "max": 1}
_IMPORTS: dict[type[nodes.Node], str] = {
    nodes.Import: "import",
    nodes.FromImport: "from",
    nodes.Include: "include",
    nodes.Extends: "extends",
}
_LITERALS = (nodes.Const, nodes.TemplateData, nodes.List, nodes.Tuple)
_SCALARS = (str, int, float, bool)


class _NoTemplates(BaseLoader):
    """A loader that loads nothing: `{% include %}` and `{% import %}` fail instead of reading files."""

    def get_source(self, environment: Environment, template: str) -> NoReturn:
        raise SecurityError(f"refused to load template {template!r}: a prompt cannot import or include templates")


def _refuse_attr_filter(value: object, name: object) -> NoReturn:
    # Replaces Jinja's `attr`, which calls the builtin getattr and so would bypass the policy below.
    raise SecurityError(f"refused the attr filter ({name!s:.64})")


def _finalize(value: Any) -> Any:
    # Output only data, so a template that reaches an internal object (a macro, `loop`, a generator)
    # fails instead of printing its repr. `str` comes first because it is nearly every call.
    if type(value) is str or isinstance(value, Undefined):
        return value
    if value is None:
        return ""  # a variable given as null renders empty, like one not given at all
    _ensure_data(value)
    return value


def _ensure_data(value: object) -> None:
    if value is None or isinstance(value, _SCALARS):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _ensure_data(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _ensure_data(key)
            _ensure_data(item)
    else:
        kind = type(value).__name__
        raise SecurityError(f"refused to render a {kind} value: only text, numbers, booleans, lists and dicts render")


class PromptEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox prompts render in: no globals, no loader, no autoescape, strict about undefined names.

    Lookups are data-only: `x.key` and `x['key']` read a dict's key, `x[0]` and `x[1:3]` index a list,
    tuple or string, and `loop.index` (and friends) work in a `{% for %}`. Anything else, and any name
    starting with `_`, raises `SecurityError`.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,  # a prompt renders exactly as written
            finalize=_finalize,
            loader=_NoTemplates(),
        )
        self.globals = {}
        self.filters["attr"] = _refuse_attr_filter
        self.filters.update(bounded_filters())

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Only the counters of `loop` are safe attributes; dict keys are read by `getattr`, not here."""
        return isinstance(obj, LoopContext) and (attr in LOOP_ATTRIBUTES or attr in LOOP_METHODS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`x.name`: a dict's key, or a counter of `loop`; refused on anything else."""
        return self._lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """`x['name']` or `x[0]`: a dict's key, or an index or slice of a list, tuple or string."""
        return self._lookup(obj, argument)

    def _lookup(self, obj: Any, key: Any) -> Any:
        if isinstance(key, str) and key.startswith("_"):
            raise SecurityError(f"refused access to {key!r}: names starting with '_' are private")
        if isinstance(obj, Undefined):
            return obj  # keep the first undefined, so the error names the root cause
        if isinstance(obj, dict):
            return obj[key] if key in obj else self.undefined(obj=obj, name=key)
        if isinstance(obj, list | tuple | str) and isinstance(key, int | slice) and not isinstance(key, bool):
            try:
                return obj[key]
            except IndexError:
                return self.undefined(obj=obj, name=str(key))
        if isinstance(obj, LoopContext) and isinstance(key, str) and self.is_safe_attribute(obj, key, None):
            return getattr(obj, key)
        # Only a str or int key is quoted: the str() of any other object could be an internal repr.
        label = repr(key)[:64] if isinstance(key, str | int) else f"a {type(key).__name__} key"
        raise SecurityError(f"refused access to {label} of a {type(obj).__name__} value")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**`, `+` and `%` with a bound on the size of what they build (see `bounds`)."""
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"refused an exponent over {MAX_EXPONENT}")
        if operator == "*":
            sequence, count = (left, right) if isinstance(right, int) else (right, left)
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and len(sequence) * count > MAX_REPEAT
            ):
                raise SecurityError(f"refused to repeat a sequence past {MAX_REPEAT} items")
        check_binop(operator, left, right)
        return self.binop_table[operator](left, right)


@functools.cache
def prompt_environment() -> PromptEnvironment:
    """The one environment every prompt compiles in; it holds no per-prompt state."""
    return PromptEnvironment()


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the static check refused, where, and why."""

    refused: str
    line: int
    reason: str


def find_refusal(template: nodes.Template, variable_types: Mapping[str, str]) -> Refusal | None:
    """The first construct of a parsed template that a prompt may not use, or None.

    `variable_types` maps each declared variable to its type, so `x.key` is refused unless `x` is
    an object (or a name the template assigns itself, such as a loop variable). Private names are
    looked for first, and inner nodes before outer ones, so the refusal names the most telling part
    of an escape attempt.
    """
    assigned = {name.name for name in template.find_all(nodes.Name) if name.ctx != "load"}
    checks: tuple[Callable[[nodes.Node], Refusal | None], ...] = (
        _private_name,
        _refused_name,
        _import,
        _attr_filter,
        _method_call,
        lambda node: _attribute_of_data(node, variable_types, assigned),
    )
    for check in checks:
        for node in _walk(template):
            refusal = check(node)
            if refusal is not None:
                return refusal
    return None


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    # Children first: in `''.__class__.__mro__` that meets `__class__` before `__mro__`, as a reader does.
    for child in node.iter_child_nodes():
        yield from _walk(child)
    yield node


def _is_private(value: object) -> bool:
    return isinstance(value, str) and any(part.startswith("_") for part in value.split("."))


def _private_name(node: nodes.Node) -> Refusal | None:
    name: object = None
    if isinstance(node, nodes.Getattr):
        name = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        name = node.arg.value
    elif isinstance(node, nodes.Filter | nodes.Test):
        name = next((arg.value for arg in _attribute_arguments(node) if _is_private(arg.value)), None)
    if not _is_private(name):
        return None
    return Refusal(str(name), node.lineno, f"{name!r} is private: names starting with '_' are refused")


def _attribute_arguments(node: nodes.Filter | nodes.Test) -> Iterator[nodes.Const]:
    for keyword in node.kwargs:
        if keyword.key == "attribute" and isinstance(keyword.value, nodes.Const):
            yield keyword.value
    position = _ATTRIBUTE_ARGUMENT.get(node.name)
    argument = node.args[position] if position is not None and len(node.args) > position else None
    if isinstance(argument, nodes.Const):
        yield argument


def _refused_name(node: nodes.Node) -> Refusal | None:
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in REFUSED_NAMES:
        reason = f"{node.name!r} is a Jinja global; prompts have no globals, only their declared variables"
        return Refusal(node.name, node.lineno, reason)
    return None


def _import(node: nodes.Node) -> Refusal | None:
    statement = _IMPORTS.get(type(node))
    if statement is None:
        return None
    return Refusal(f"{{% {statement} %}}", node.lineno, f"{{% {statement} %}} is refused: a prompt stands alone")


def _attr_filter(node: nodes.Node) -> Refusal | None:
    if not isinstance(node, nodes.Filter | nodes.Test):
        return None
    # `map('attr', ...)` reaches the attr filter by name.
    mapped = node.args[0] if node.name == "map" and node.args else None
    if node.name != "attr" and not (isinstance(mapped, nodes.Const) and mapped.value == "attr"):
        return None
    return Refusal("attr", node.lineno, "the attr filter is refused; read a key with x.key or x['key']")


def _method_call(node: nodes.Node) -> Refusal | None:
    if not isinstance(node, nodes.Call) or not isinstance(node.node, nodes.Getattr | nodes.Getitem):
        return None
    callee = node.node
    if isinstance(callee, nodes.Getattr):
        if isinstance(callee.node, nodes.Name) and callee.node.name == "loop" and callee.attr in LOOP_METHODS:
            return None
        name = callee.attr
    else:
        name = str(callee.arg.value) if isinstance(callee.arg, nodes.Const) else "[...]"
    return Refusal(f"{name}()", node.lineno, f"calling the method {name!r} is refused; use a filter instead")


def _attribute_of_data(node: nodes.Node, types: Mapping[str, str], assigned: set[str]) -> Refusal | None:
    if not isinstance(node, nodes.Getattr):
        return None
    target = node.node
    if isinstance(target, _LITERALS):
        return Refusal(node.attr, node.lineno, f"reading {node.attr!r} of a literal is refused")
    if isinstance(target, nodes.Name) and target.name not in assigned and types.get(target.name, "object") != "object":
        kind = types[target.name]
        reason = f"{target.name!r} is declared {kind}; only object variables have keys to read with '.'"
        return Refusal(node.attr, node.lineno, reason)
    return None
