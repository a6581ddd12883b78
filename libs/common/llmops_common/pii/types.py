"""The kinds of PII, what a redaction returns, and the protocol every redaction engine meets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PiiType(StrEnum):
    """A kind of personal data; its placeholder in redacted text is `[NAME]`, e.g. `[EMAIL]`."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    NATIONAL_ID = "NATIONAL_ID"

    @property
    def placeholder(self) -> str:
        """What replaces a value of this kind in redacted text."""
        return f"[{self.value}]"


@dataclass(frozen=True, slots=True)
class Redaction:
    """A redacted text and how many values of each kind were replaced in it."""

    text: str
    hits: Mapping[PiiType, int] = field(default_factory=dict)


class Redactor(Protocol):
    """Replaces the PII in a text by typed placeholders."""

    def redact(self, text: str) -> Redaction:
        """`text` with each PII value replaced by its type's placeholder, and the counts per type."""
        ...
