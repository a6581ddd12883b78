"""The default redaction engine: validated regular expressions, with no model and no dependency."""

from __future__ import annotations

import re
import string

from .patterns import DETECTORS, Detector
from .types import PiiType, Redaction

_DIGIT = re.compile(r"\d")


class RegexRedactor:
    """Redacts emails, phone numbers, Luhn-valid cards, mod-97-valid IBANs, IPv4 and IPv6 addresses,
    US SSNs and UK National Insurance numbers.

    It runs `patterns.DETECTORS` in order, each on the output of the one before, so a value is only
    ever counted once. A text is scanned only by the detectors it could match at all (no `@`, no
    email; no digit, nothing but emails), which keeps plain prose cheap.
    """

    def __init__(self, detectors: tuple[Detector, ...] = DETECTORS) -> None:
        self._detectors = detectors

    def redact(self, text: str) -> Redaction:
        """`text` with every confirmed match replaced by its placeholder, and the hits per type."""
        hits: dict[PiiType, int] = {}
        has_digit = _has_digit(text)
        for detector in self._detectors:
            if (detector.needs_digit and not has_digit) or (detector.needs is not None and detector.needs not in text):
                continue
            text, found = _apply(detector, text)
            if found:
                hits[detector.pii_type] = hits.get(detector.pii_type, 0) + found
        return Redaction(text, hits)


def _apply(detector: Detector, text: str) -> tuple[str, int]:
    pieces: list[str] = []
    position = found = 0
    while (match := detector.pattern.search(text, position)) is not None:
        length = detector.confirm(match.group())
        if length is None:
            pieces.append(text[position : match.end()])
            position = match.end()
            continue
        pieces += (text[position : match.start()], detector.pii_type.placeholder)
        found += 1
        # Only the confirmed part is replaced; the rest is searched again, since it may hold PII too.
        position = match.start() + length
    if not found:
        return text, 0
    pieces.append(text[position:])
    return "".join(pieces), found


def _has_digit(text: str) -> bool:
    if text.isascii():
        # Ten substring scans (memchr) beat one regex pass over the text several times over.
        return any(digit in text for digit in string.digits)
    return _DIGIT.search(text) is not None
