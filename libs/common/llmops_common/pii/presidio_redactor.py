"""Redaction with Microsoft Presidio's analyzer, used when the `presidio_analyzer` package is installed.

Presidio is not a dependency of the platform: it brings spaCy and a language model, and costs a few
milliseconds per document, well over the regex redactor's budget. This module therefore imports it
only through `importlib` when a `PresidioRedactor` is built without an analyzer, so that neither the
import of this module nor mypy needs the package. Presidio's entity types are mapped onto ours;
entities we have no type for (names, locations) are left alone, as the regex redactor leaves them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Protocol

from .types import PiiType, Redaction

PRESIDIO_MODULE = "presidio_analyzer"

PRESIDIO_ENTITIES: dict[str, PiiType] = {
    "EMAIL_ADDRESS": PiiType.EMAIL,
    "PHONE_NUMBER": PiiType.PHONE,
    "CREDIT_CARD": PiiType.CREDIT_CARD,
    "IBAN_CODE": PiiType.IBAN,
    "IP_ADDRESS": PiiType.IP_ADDRESS,
    "US_SSN": PiiType.NATIONAL_ID,
    "US_ITIN": PiiType.NATIONAL_ID,
    "UK_NINO": PiiType.NATIONAL_ID,
    "ES_NIF": PiiType.NATIONAL_ID,
    "IT_FISCAL_CODE": PiiType.NATIONAL_ID,
    "IN_AADHAAR": PiiType.NATIONAL_ID,
}
"""Presidio's entity type names, and the placeholder type each one becomes."""


class AnalyzerResult(Protocol):
    """What we read of a `presidio_analyzer.RecognizerResult`."""

    entity_type: str
    start: int
    end: int
    score: float


class Analyzer(Protocol):
    """What we call of a `presidio_analyzer.AnalyzerEngine`."""

    def analyze(self, text: str, language: str, entities: list[str]) -> Sequence[AnalyzerResult]:
        """The PII entities found in `text`."""
        ...


def presidio_installed() -> bool:
    """Whether `presidio_analyzer` can be imported here."""
    return importlib.util.find_spec(PRESIDIO_MODULE) is not None


class PresidioRedactor:
    """A `Redactor` backed by Presidio's `AnalyzerEngine`, keeping results of at least `min_score`.

    Overlapping results are resolved by keeping the one that starts first, then the higher score,
    then the longer span.
    """

    def __init__(self, analyzer: Analyzer | None = None, *, language: str = "en", min_score: float = 0.5) -> None:
        self._analyzer = analyzer if analyzer is not None else _new_analyzer()
        self._language = language
        self._min_score = min_score

    def redact(self, text: str) -> Redaction:
        """`text` with every entity Presidio finds replaced by its placeholder, and the hits per type."""
        results = self._analyzer.analyze(text=text, language=self._language, entities=list(PRESIDIO_ENTITIES))
        kept = [result for result in results if result.score >= self._min_score]
        found = sorted(
            (result for result in kept if result.entity_type in PRESIDIO_ENTITIES),
            key=lambda result: (result.start, -result.score, result.start - result.end),
        )
        pieces: list[str] = []
        hits: dict[PiiType, int] = {}
        position = 0
        for result in found:
            if result.start < position:
                continue
            pii_type = PRESIDIO_ENTITIES[result.entity_type]
            pieces += (text[position : result.start], pii_type.placeholder)
            hits[pii_type] = hits.get(pii_type, 0) + 1
            position = result.end
        pieces.append(text[position:])
        return Redaction("".join(pieces), hits)


def _new_analyzer() -> Analyzer:
    module = importlib.import_module(PRESIDIO_MODULE)
    analyzer: Analyzer = module.AnalyzerEngine()
    return analyzer
