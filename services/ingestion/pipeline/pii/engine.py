"""Picks the redaction engine: Presidio when asked for or installed, the regex redactor otherwise."""

from __future__ import annotations

from llmops_common.pii.presidio_redactor import PresidioRedactor, presidio_installed
from llmops_common.pii.regex_redactor import RegexRedactor
from llmops_common.pii.types import Redactor

from ..config import RedactorEngine


def build_redactor(engine: RedactorEngine = "auto") -> Redactor:
    """The redactor for `engine`: `auto` is Presidio if `presidio_analyzer` is importable, else regex.

    `presidio` without the package installed raises `ModuleNotFoundError`, rather than quietly
    redacting less than the operator asked for.
    """
    if engine == "presidio" or (engine == "auto" and presidio_installed()):
        return PresidioRedactor()
    return RegexRedactor()
