"""Normalisation gives one spelling of a text: NFC, single spaces, `\\n` line breaks, paragraph breaks kept."""

from __future__ import annotations

import pytest

from services.ingestion.pipeline.normalise import normalise_text


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Cafe\u0301", "Caf\u00e9"),
        ("  two   spaces\tand\t\ttabs  ", "two spaces and tabs"),
        ("no\u00a0break\u2003em space", "no break em space"),
        ("windows\r\nold mac\rline\u2028separator", "windows\nold mac\nline\nseparator"),
        ("line one   \n   line two", "line one\nline two"),
        ("para one\n\n\n\n  \n\t\npara two", "para one\n\npara two"),
        ("\ufeffzero\u200bwidth and bell\x07", "zerowidth and bell"),
        (" \n\t\u200b ", ""),
    ],
)
def test_normalise_text(raw: str, normalised: str) -> None:
    assert normalise_text(raw) == normalised


def test_normalising_twice_changes_nothing() -> None:
    once = normalise_text(" A\u0301 b\r\n\r\n\r\nc\t d ")

    assert normalise_text(once) == once == "\u00c1 b\n\nc d"


@pytest.mark.parametrize("tidy", ["plain text", " line one\nline two\n\npara two ", "\n\nx y\n"])
def test_tidy_ascii_takes_the_fast_path_to_the_same_result(tidy: str) -> None:
    # A zero-width space sends the text down the full path, which removes it.
    assert normalise_text(tidy) == normalise_text(tidy + "\u200b")
