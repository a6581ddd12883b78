"""A unified diff of two prompt versions, over a line-oriented text form of each."""

from __future__ import annotations

import difflib

from llmops_common.events.prompts import PromptVersionCreatedV1


def diff_versions(old: PromptVersionCreatedV1, new: PromptVersionCreatedV1) -> str:
    """A unified diff from `old` to `new`, with headers like `support-answer:v1`; "" when the content is equal.

    The content is the kind, the parameters, the variables and the template (or each message, headed
    `--- message N (role) ---` with N counted from 0). Author, commit message and time are not content.
    """
    lines = difflib.unified_diff(
        canonical_lines(old),
        canonical_lines(new),
        fromfile=f"{old.name}:v{old.version}",
        tofile=f"{new.name}:v{new.version}",
        lineterm="",
    )
    text = "\n".join(lines)
    return f"{text}\n" if text else ""


def canonical_lines(version: PromptVersionCreatedV1) -> list[str]:
    """The line-oriented text form of a version that `diff_versions` compares."""
    parameters = version.parameters
    lines = [
        f"kind: {version.kind}",
        f"model: {_value(parameters.model)}",
        f"temperature: {_value(parameters.temperature)}",
        f"max_tokens: {_value(parameters.max_tokens)}",
        "variables:",
    ]
    lines += [
        f"  {variable.name}: {variable.type}, {'required' if variable.required else 'optional'}"
        for variable in version.variables
    ]
    if version.template is not None:
        lines += ["--- template ---", *_content_lines(version.template)]
    for index, message in enumerate(version.messages or ()):
        lines += [f"--- message {index} ({message.role}) ---", *_content_lines(message.content)]
    return lines


def _value(value: object) -> str:
    return "(default)" if value is None else str(value)


def _content_lines(content: str) -> list[str]:
    # split, not splitlines: a trailing newline is content and shows as a last empty line.
    return content.split("\n")
