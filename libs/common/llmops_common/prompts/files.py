"""The prompt file: one prompt version as YAML, so prompts can live in Git and be pushed from CI.

```yaml
name: support-answer
kind: chat
messages:
  - role: system
    content: |
      You answer questions about {{ product }}.
      Be brief.
variables:
  - name: product
    type: string
    required: true
parameters:
  model: support-assistant
  temperature: 0.2
commit_message: shorter answers
labels:
  - staging
```
A text prompt has `template` instead of `messages`. `labels` are moved to the new version after a push.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import ErrorDetails

from ..errors import PermanentError
from ..events.data import ChatMessage
from ..events.prompts import ModelParameters, PromptVariable
from .refs import LABEL_MAX_LENGTH, LABEL_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN

PromptName = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)]
LabelName = Annotated[str, StringConstraints(pattern=LABEL_PATTERN, max_length=LABEL_MAX_LENGTH)]

IMPLICIT_LABEL = "latest"
"""The registry's label of the newest version: it moves by itself, so a file never names it."""


class PromptFileError(PermanentError):
    """A prompt file that cannot be read: the message names the file, and the line where known."""

    code = "invalid_prompt_file"


class PromptFile(BaseModel):
    """One prompt version as it is written in a prompt file."""

    model_config = ConfigDict(extra="forbid")

    name: PromptName
    kind: Literal["chat", "text"]
    template: str | None = None
    messages: list[ChatMessage] | None = None
    variables: list[PromptVariable] = Field(default_factory=list)
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    commit_message: str = ""
    labels: list[LabelName] = Field(default_factory=list)
    """Labels to point at the new version once it is pushed."""

    @model_validator(mode="after")
    def _fits_kind(self) -> PromptFile:
        if self.kind == "chat" and (self.template is not None or not self.messages):
            raise ValueError("a chat prompt takes a non-empty `messages` and no `template`")
        if self.kind == "text" and (self.template is None or self.messages is not None):
            raise ValueError("a text prompt takes a `template` and no `messages`")
        if IMPLICIT_LABEL in self.labels:
            raise ValueError(f"`{IMPLICIT_LABEL}` always points at the newest version and cannot be moved")
        return self

    @classmethod
    def from_version(cls, body: dict[str, Any], *, with_labels: bool = False) -> PromptFile:
        """The file of a registry version (a `PromptVersionOut` body); its labels only when asked.

        The implicit `latest` label is never copied.
        """
        fields = ("name", "kind", "template", "messages", "variables", "parameters", "commit_message")
        data = {key: body[key] for key in fields if key in body}
        if with_labels:
            data["labels"] = [label for label in body.get("labels", []) if label != IMPLICIT_LABEL]
        return cls.model_validate(data)

    def version_request(self, expected_version: int | None = None) -> dict[str, Any]:
        """The body of `POST /v1/prompts/{name}/versions` for this file.

        `expected_version` is the latest version the writer saw (0 for a new prompt); the registry
        refuses the push with 409 when another version was saved since.
        """
        body = self.model_dump(mode="json", exclude={"name", "labels"})
        return {**body, "expected_version": expected_version}


def load_prompt_file(path: Path | str) -> PromptFile:
    """Reads and checks a prompt file; raises `PromptFileError` naming the file, the line and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PromptFileError(f"{path}: cannot read the file: {error}", detail={"file": str(path)}) from error
    return parse_prompt_file(text, source=str(path))


def parse_prompt_file(text: str, source: str = "<prompt file>") -> PromptFile:
    """`load_prompt_file` for text already read; `source` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _yaml_error(source, error) from error
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise PromptFileError(f"{source}: a prompt file is a YAML mapping, found {found}", detail={"file": source})
    try:
        return PromptFile.model_validate(data)
    except ValidationError as error:
        raise _schema_error(source, text, error) from error


def dump_prompt_file(prompt: PromptFile) -> str:
    """The prompt as readable YAML: block style, keys in file order, multi-line text as `|` blocks."""
    data = prompt.model_dump(mode="json", exclude_none=True)
    if not data["labels"]:
        del data["labels"]
    if not data["parameters"]:
        del data["parameters"]
    return yaml.dump(data, Dumper=_PromptDumper, sort_keys=False, allow_unicode=True, width=1 << 16)


_UNICODE_BREAKS = frozenset("\x85\u2028\u2029")


class _PromptDumper(yaml.SafeDumper):
    """Indents lists under their key and writes multi-line strings as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # PyYAML writes `- item` flush with its key by default; indented lists read better in a review.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself where a literal block cannot hold the text exactly
    # (trailing spaces on a line, some control characters). It would write the Unicode line breaks raw
    # in single quotes, where a reader folds them; only double quotes escape them.
    style = '"' if _UNICODE_BREAKS.intersection(value) else ("|" if "\n" in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_PromptDumper.add_representer(str, _represent_str)


def _yaml_error(source: str, error: yaml.YAMLError) -> PromptFileError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return PromptFileError(f"{source}: not valid YAML: {problem}", detail={"file": source})
    line, column = mark.line + 1, mark.column + 1
    return PromptFileError(
        f"{source}, line {line}, column {column}: not valid YAML: {problem}",
        detail={"file": source, "line": line, "column": column, "problem": problem},
    )


def _schema_error(source: str, text: str, error: ValidationError) -> PromptFileError:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    problems = [
        {"location": _location(p["loc"]), "line": _line_of(root, p["loc"]), "problem": _problem_text(p)}
        for p in error.errors()
    ]
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    lines = [f"\n  {_problem_line(p)}" for p in problems]
    return PromptFileError(
        f"{source}: not a valid prompt file ({count}):{''.join(lines)}", detail={"file": source, "problems": problems}
    )


def _problem_text(problem: ErrorDetails) -> str:
    # A check of our own reads better without pydantic's "Value error, " in front.
    reason = problem.get("ctx", {}).get("error")
    return str(reason) if problem["type"] == "value_error" and reason is not None else problem["msg"]


def _problem_line(problem: dict[str, Any]) -> str:
    where = problem["location"] + (f" (line {problem['line']})" if problem["line"] else "")
    return f"{where}: {problem['problem']}" if where else problem["problem"]


def _location(loc: tuple[int | str, ...]) -> str:
    """`messages[1].role` for pydantic's `('messages', 1, 'role')`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the YAML node at `loc`, or of its nearest ancestor that exists (a missing key).

    None for a problem of the whole file or a missing top-level key, where line 1 would only mislead.
    """
    found = _child(node, loc[0]) if loc else None
    for part in loc[1:]:
        child = _child(found, part)
        if child is None:
            break
        found = child
    return None if found is None else found.start_mark.line + 1


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        # A key may be given twice; YAML keeps the last, and so does this.
        matches = [value for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == part]
        return matches[-1] if matches else None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None
