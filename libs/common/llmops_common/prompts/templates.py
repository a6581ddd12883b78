"""Checking a prompt before it is saved, compiling it once, and rendering it with validated variables.

`check_prompt` runs when a version is saved and raises a 422 (or 413) that names what is wrong.
`compile_prompt` turns a saved version into a `CompiledPrompt`; compile once per version and keep it,
since `render` is the hot path. Rendering happens in `PromptEnvironment`, which refuses escapes even
for a template that never went through `check_prompt`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from jinja2 import Template, TemplateAssertionError, TemplateSyntaxError, Undefined, meta, nodes
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError

from llmops_common.errors import PayloadTooLargeError, PermanentError
from llmops_common.events.base import ClosedModel
from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import PromptVariable, PromptVersionCreatedV1

from .bounds import CURRENT_BUDGET, DEFAULT_LIMITS, RenderBudget, RenderLimits, bound_tree
from .sandbox import find_refusal, prompt_environment

PromptKind = Literal["chat", "text"]
MAX_MESSAGES = 100
"""Most messages a chat prompt may have."""

_TYPE_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
# Errors a render may raise from a filter or an operator on the caller's data; none is a server fault.
_RENDER_FAILURES = (
    JinjaTemplateError,
    AttributeError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
)


class TemplateError(PermanentError):
    """A prompt template that cannot be saved: wrong shape, bad syntax, undeclared or refused names."""

    code = "invalid_template"


class RenderError(PermanentError):
    """Variables that do not fit the prompt, or a render the sandbox stopped."""

    code = "invalid_variables"


class TemplateTooLargeError(PayloadTooLargeError):
    """A prompt whose templates together pass the size limit, or with too many messages."""


class RenderedPrompt(ClosedModel):
    """A rendered prompt: `text` for a text prompt, `messages` for a chat prompt; the other is None."""

    kind: PromptKind
    text: str | None = None
    messages: list[ChatMessage] | None = None


def check_prompt(
    kind: PromptKind,
    template: str | None,
    messages: Sequence[ChatMessage] | None,
    variables: Sequence[PromptVariable],
    *,
    max_chars: int,
) -> None:
    """Refuse a prompt that must not be saved; return None when it is fine.

    Raises `TemplateTooLargeError` (413) past `max_chars` characters of template in all or past
    `MAX_MESSAGES` messages, and `TemplateError` (422) for a kind/shape mismatch, a syntax error, a
    refused construct, an undeclared variable, an unknown filter or a duplicate variable name.
    """
    _check_size(template, messages, max_chars)
    sources = _sources(kind, template, messages)
    types = _variable_types(variables)
    undeclared: set[str] = set()
    for index, source in sources:
        tree = _parse(source, index)
        refusal = find_refusal(tree, types)
        if refusal is not None:
            where = _where(refusal.line, index)
            detail = _with_index({"refused": refusal.refused, "line": refusal.line}, index)
            raise TemplateError(f"refused {refusal.refused!r} {where}: {refusal.reason}", detail=detail)
        _compile(tree, index)  # unknown filters and tests only show when Jinja generates code
        undeclared |= meta.find_undeclared_variables(tree) - types.keys()
    if undeclared:
        names = sorted(undeclared)
        raise TemplateError(f"undeclared variables: {', '.join(names)}", detail={"undeclared": names})


def compile_prompt(
    kind: PromptKind,
    template: str | None,
    messages: Sequence[ChatMessage] | None,
    variables: Sequence[PromptVariable],
) -> CompiledPrompt:
    """Compile each template of a prompt once, for fast renders.

    This does not run `check_prompt`: a version read back from the registry was checked when it was
    saved, and the sandbox holds at render time either way. It still raises `TemplateError` for a
    kind/shape mismatch, a syntax error or a duplicate variable.
    """
    sources = _sources(kind, template, messages)
    _variable_types(variables)  # refuses duplicates
    compiled = tuple(_compile(_parse(source, index), index) for index, source in sources)
    sources_of_chat = tuple(messages) if kind == "chat" and messages else None
    declared = {variable.name: variable for variable in variables}
    absent = {name: Undefined(name=name) for name, variable in declared.items() if not variable.required}
    return CompiledPrompt(kind=kind, templates=compiled, messages=sources_of_chat, variables=declared, absent=absent)


def compile_version(version: PromptVersionCreatedV1) -> CompiledPrompt:
    """`compile_prompt` for a version as the registry stores it."""
    return compile_prompt(version.kind, version.template, version.messages, version.variables)


@dataclass(frozen=True, slots=True)
class CompiledPrompt:
    """A prompt whose templates are compiled; `render` it as often as needed, from any thread."""

    kind: PromptKind
    templates: tuple[Template, ...]
    messages: tuple[ChatMessage, ...] | None
    """The chat messages as saved (their roles are reused), or None for a text prompt."""
    variables: Mapping[str, PromptVariable]
    absent: Mapping[str, Undefined]
    """The value an optional variable takes when not given: falsy, renders empty, works with |default."""

    def render(self, values: Mapping[str, object], limits: RenderLimits = DEFAULT_LIMITS) -> RenderedPrompt:
        """Render with `values`, which must match the declared variables.

        Raises `RenderError` (422) for missing required, unknown or mistyped variables (detail keys
        `missing`, `unknown`, `mistyped`), and for a render that fails or that the sandbox refuses.
        An optional variable that is absent or None is undefined: `{% if x %}` is false, `{{ x }}` is empty
        and `{{ x|default('y') }}` is `y`. A required variable given as None counts as missing.
        A render that passes one of `limits` (or a bound of `bounds`) is refused with a `RenderError`.
        """
        context = self._context(values)
        chat = self.messages is not None
        budget = RenderBudget(limits)
        token = CURRENT_BUDGET.set(budget)
        try:
            outputs = [
                _render(template, context, index if chat else None, budget)
                for index, template in enumerate(self.templates)
            ]
        finally:
            CURRENT_BUDGET.reset(token)
        if self.messages is None:
            return RenderedPrompt.model_construct(kind=self.kind, text=outputs[0], messages=None)
        # The roles were validated when the version was built and contents are strs: skip revalidation.
        messages = [
            ChatMessage.model_construct(role=source.role, content=text)
            for source, text in zip(self.messages, outputs, strict=True)
        ]
        return RenderedPrompt.model_construct(kind=self.kind, text=None, messages=messages)

    def _context(self, values: Mapping[str, object]) -> dict[str, object]:
        missing: list[str] = []
        mistyped: dict[str, str] = {}
        context: dict[str, object] = dict(self.absent)
        for name, variable in self.variables.items():
            value = values.get(name)
            if value is None:  # JSON null: absent, which only an optional variable may be
                if variable.required:
                    missing.append(name)
                continue
            problem = _type_problem(variable.type, value)
            if problem is not None:
                mistyped[name] = problem
            context[name] = value
        unknown = sorted(name for name in values if name not in self.variables)
        if missing or unknown or mistyped:
            raise _variables_error(missing, unknown, mistyped)
        return context


def _variables_error(missing: list[str], unknown: list[str], mistyped: dict[str, str]) -> RenderError:
    detail: dict[str, object] = {}
    parts: list[str] = []
    if missing:
        detail["missing"] = missing
        parts.append(f"missing {', '.join(missing)}")
    if unknown:
        detail["unknown"] = unknown
        parts.append(f"unknown {', '.join(unknown)}")
    if mistyped:
        detail["mistyped"] = mistyped
        parts += [f"{name}: {problem}" for name, problem in mistyped.items()]
    return RenderError(f"variables do not fit the prompt: {'; '.join(parts)}", detail=detail)


def _type_problem(expected: str, value: object) -> str | None:
    # bool is an int in Python, but not an integer or a number to a JSON caller.
    is_bool = isinstance(value, bool)
    if isinstance(value, _TYPE_CHECKS[expected]) and (expected == "boolean" or not is_bool):
        return None
    return f"expected {expected}, got {type(value).__name__}"


def _render(template: Template, context: dict[str, object], index: int | None, budget: RenderBudget) -> str:
    # Stream the output, so a render stops at the output limit instead of building it all first.
    chunks: list[str] = []
    try:
        for chunk in template.generate(context):
            budget.output(chunk)
            chunks.append(chunk)
    except _RENDER_FAILURES as exc:
        problem = str(exc)
        prefix = "" if isinstance(exc, SecurityError) else "render failed: "
        raise RenderError(f"{prefix}{problem}", detail=_with_index({"problem": problem}, index)) from None
    return "".join(chunks)


def _check_size(template: str | None, messages: Sequence[ChatMessage] | None, max_chars: int) -> None:
    if messages is not None and len(messages) > MAX_MESSAGES:
        detail = {"messages": len(messages), "max_messages": MAX_MESSAGES}
        raise TemplateTooLargeError(f"a prompt may have at most {MAX_MESSAGES} messages", detail=detail)
    chars = len(template or "") + sum(len(message.content) for message in messages or ())
    if chars > max_chars:
        detail = {"chars": chars, "max_chars": max_chars}
        raise TemplateTooLargeError(f"templates total {chars} characters, over the {max_chars} limit", detail=detail)


def _sources(
    kind: PromptKind, template: str | None, messages: Sequence[ChatMessage] | None
) -> list[tuple[int | None, str]]:
    """Each template with its message index (None for a text prompt), once the shape fits the kind."""
    if kind == "chat":
        if template is not None or not messages:
            raise _shape_error(kind, "a chat prompt takes a non-empty `messages` and no `template`")
        return [(index, message.content) for index, message in enumerate(messages)]
    if template is None or messages is not None:
        raise _shape_error(kind, "a text prompt takes a `template` and no `messages`")
    return [(None, template)]


def _shape_error(kind: str, problem: str) -> TemplateError:
    return TemplateError(problem, detail={"kind": kind, "problem": problem})


def _variable_types(variables: Sequence[PromptVariable]) -> Mapping[str, str]:
    types = {variable.name: variable.type for variable in variables}
    if len(types) != len(variables):
        counts = Counter(variable.name for variable in variables)
        duplicate = sorted(name for name, count in counts.items() if count > 1)
        raise TemplateError(f"variables declared twice: {', '.join(duplicate)}", detail={"duplicate": duplicate})
    return types


def _parse(source: str, index: int | None) -> nodes.Template:
    try:
        return prompt_environment().parse(source)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, index) from None


def _compile(tree: nodes.Template, index: int | None) -> Template:
    try:
        return prompt_environment().from_string(bound_tree(tree))
    except TemplateAssertionError as exc:
        raise _syntax_error(exc, index) from None


def _syntax_error(exc: TemplateSyntaxError, index: int | None) -> TemplateError:
    detail = _with_index({"line": exc.lineno, "problem": exc.message or str(exc)}, index)
    return TemplateError(f"syntax error {_where(exc.lineno, index)}: {exc.message}", detail=detail)


def _where(line: int, index: int | None) -> str:
    return f"on line {line}" if index is None else f"on line {line} of message {index}"


def _with_index(detail: dict[str, object], index: int | None) -> dict[str, object]:
    if index is not None:
        detail["message_index"] = index
    return detail
