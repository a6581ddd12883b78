"""Unicode NFC and whitespace normalisation, so that every later step sees one spelling of a text."""

from __future__ import annotations

import re
import unicodedata

_LINE_BREAK = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control characters carry no text and break tokenisers; tab and newline are handled as whitespace.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u200b\ufeff]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")
_PRINTABLE_ASCII_AND_NEWLINE = bytes(range(0x20, 0x7F)) + b"\n"


def normalise_text(text: str) -> str:
    """`text` in NFC, with one space for each run of spaces and tabs, `\\n` line breaks, and no edges.

    Lines are stripped. A paragraph break (one or more blank lines) becomes exactly one blank line;
    single line breaks stay, since they carry structure (lists, code, verse). Zero-width spaces,
    byte order marks and other control characters are removed.
    """
    text = unicodedata.normalize("NFC", text)
    if _tidy(text):
        return text.strip()
    text = _LINE_BREAK.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _tidy(text: str) -> bool:
    # Most text is plain ASCII with single spaces and needs none of the five substitutions; these
    # C-speed scans tell it apart for a fraction of the cost of one regex pass.
    return (
        text.isascii()
        and not text.encode().translate(None, _PRINTABLE_ASCII_AND_NEWLINE)
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and "\n\n\n" not in text
    )
