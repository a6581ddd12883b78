"""Presidio sits behind the same `Redactor` protocol; without the package the regex redactor is used."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from llmops_common.pii.presidio_redactor import PresidioRedactor, presidio_installed
from llmops_common.pii.regex_redactor import RegexRedactor
from llmops_common.pii.types import PiiType, Redaction
from services.ingestion.pipeline.pii import engine


@dataclass
class Result:
    entity_type: str
    start: int
    end: int
    score: float


class FakeAnalyzer:
    """Finds fixed spans, as Presidio's `AnalyzerEngine.analyze` would report them."""

    def __init__(self, results: list[Result]) -> None:
        self.results = results
        self.calls: list[tuple[str, str, list[str]]] = []

    def analyze(self, text: str, language: str, entities: list[str]) -> Sequence[Result]:
        self.calls.append((text, language, entities))
        return self.results


TEXT = "Mail jane@example.com or call 555-123-4567, says Jane Doe."


def test_presidio_results_become_typed_placeholders() -> None:
    analyzer = FakeAnalyzer(
        [
            Result("PHONE_NUMBER", 30, 42, 0.75),
            Result("EMAIL_ADDRESS", 5, 21, 1.0),
            Result("URL", 10, 21, 0.5),  # inside the email, and a type we do not redact
            Result("PERSON", 49, 57, 0.85),  # names are not among our types
            Result("US_SSN", 30, 42, 0.3),  # below the score floor
        ]
    )

    redaction = PresidioRedactor(analyzer, language="en").redact(TEXT)

    assert redaction == Redaction("Mail [EMAIL] or call [PHONE], says Jane Doe.", {PiiType.EMAIL: 1, PiiType.PHONE: 1})
    assert analyzer.calls[0][:2] == (TEXT, "en")
    assert "IBAN_CODE" in analyzer.calls[0][2]


def test_overlapping_results_keep_the_first_then_the_stronger() -> None:
    analyzer = FakeAnalyzer([Result("PHONE_NUMBER", 5, 21, 0.6), Result("CREDIT_CARD", 5, 24, 0.9)])

    redaction = PresidioRedactor(analyzer).redact("card 4111 1111 1111 1111 ok")

    assert redaction == Redaction("card [CREDIT_CARD] ok", {PiiType.CREDIT_CARD: 1})


def test_presidio_is_not_installed_here_so_auto_is_regex() -> None:
    assert not presidio_installed()
    assert isinstance(engine.build_redactor("auto"), RegexRedactor)
    assert isinstance(engine.build_redactor("regex"), RegexRedactor)


def test_asking_for_presidio_without_it_fails_loudly() -> None:
    with pytest.raises(ModuleNotFoundError):
        engine.build_redactor("presidio")


def test_auto_builds_presidio_when_the_package_is_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("presidio_analyzer")
    analyzer = FakeAnalyzer([Result("IP_ADDRESS", 5, 13, 0.9)])
    fake.AnalyzerEngine = lambda: analyzer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "presidio_analyzer", fake)
    monkeypatch.setattr(engine, "presidio_installed", lambda: True)

    redactor = engine.build_redactor("auto")

    assert isinstance(redactor, PresidioRedactor)
    assert redactor.redact("host 10.0.0.1 up") == Redaction("host [IP_ADDRESS] up", {PiiType.IP_ADDRESS: 1})
