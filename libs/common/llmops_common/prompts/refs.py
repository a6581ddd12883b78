"""References to a prompt as people write them: `name`, `name@label` or `name:version`.

The CLI, the model server and the evaluator all take prompts by reference, so this module knows
nothing of HTTP: it only parses, checks and prints references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""A prompt name, as the registry accepts it."""
NAME_MAX_LENGTH = 128
LABEL_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
"""A label name, as the registry accepts it."""
LABEL_MAX_LENGTH = 64

_NAME = re.compile(NAME_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)
_FORMS = "write NAME, NAME@LABEL or NAME:VERSION"


@dataclass(frozen=True, slots=True)
class PromptRef:
    """A prompt by name, optionally pinned to a label or to a version number (never both).

    With neither, it means the latest version. Building one checks it: a bad reference raises
    `ValueError` whether it was parsed or built directly.
    """

    name: str
    label: str | None = None
    version: int | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError(f"invalid prompt reference {str(self)!r}: the name is empty; {_FORMS}")
        if len(self.name) > NAME_MAX_LENGTH or not _NAME.match(self.name):
            raise ValueError(
                f"invalid prompt name {self.name!r}: use letters, digits, '_', '.' and '-' "
                f"(starting with a letter or digit, at most {NAME_MAX_LENGTH} characters)"
            )
        if self.label is not None and self.version is not None:
            raise ValueError(f"invalid prompt reference {str(self)!r}: give a label or a version, not both")
        if self.label is not None and (len(self.label) > LABEL_MAX_LENGTH or not _LABEL.match(self.label)):
            raise ValueError(
                f"invalid label {self.label!r}: use lower-case letters, digits, '_', '.' and '-' "
                f"(starting with a letter or digit, at most {LABEL_MAX_LENGTH} characters)"
            )
        # bool is an int in Python; a version of True is a bug in the caller, not version 1.
        if self.version is not None and (isinstance(self.version, bool) or self.version < 1):
            raise ValueError(f"invalid prompt version {self.version!r}: versions are whole numbers from 1")

    def __str__(self) -> str:
        if self.label is not None:
            return f"{self.name}@{self.label}"
        if self.version is not None:
            return f"{self.name}:{self.version}"
        return self.name


def parse_prompt_ref(text: str) -> PromptRef:
    """Parses `name`, `name@label` or `name:version`; raises `ValueError` saying what is wrong."""
    if "@" in text and ":" in text:
        raise ValueError(f"invalid prompt reference {text!r}: give a label or a version, not both; {_FORMS}")
    if "@" in text:
        name, _, label = text.partition("@")
        if not label:
            raise ValueError(f"invalid prompt reference {text!r}: the label after '@' is empty; {_FORMS}")
        return PromptRef(name, label=label)
    if ":" in text:
        name, _, number = text.partition(":")
        # isdigit alone would take '²' and int() would take '+3' or ' 3'; a version is plain ASCII digits.
        if not (number.isascii() and number.isdigit()):
            raise ValueError(f"invalid prompt reference {text!r}: the version after ':' must be a whole number")
        return PromptRef(name, version=int(number))
    return PromptRef(text)
