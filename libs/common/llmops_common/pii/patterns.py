"""The regular expressions of the regex redactor, each with the check that confirms a match.

A pattern finds candidates; a confirm function decides, from the matched text, how much of it is
PII (None for none). Patterns are anchored on both sides so that they never start or end inside a
longer number or word: a 20-digit reference is not a card, and `v1.2.3.4.5` is not an address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from .checksums import IBAN_LENGTHS, iban_valid, luhn_valid
from .types import PiiType

Confirm = Callable[[str], int | None]
"""How many leading characters of a candidate are PII, or None when it is not PII at all."""


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind of PII: its candidate pattern, its confirmation, and a cheap test for skipping a text."""

    pii_type: PiiType
    pattern: re.Pattern[str]
    confirm: Confirm
    needs: str | None = None
    """A character every match contains: a text without it is skipped without running the pattern."""
    needs_digit: bool = True
    """Every match has a digit: a text without digits is skipped."""


EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}(?![\w-])")

# Groups of up to four, optionally spaced; a spaced group that starts like an IBAN (`DE89`) starts the
# next one, so that two IBANs in a row are two candidates.
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:(?: (?![A-Z]{2}\d{2}))?[A-Za-z0-9]{1,4}){3,8}(?![A-Za-z0-9])")

# Four-digit groups (Visa, Mastercard, up to 19 digits) or Amex's 4-6-5, one separator style throughout.
CREDIT_CARD = re.compile(
    r"(?<![\d+-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -]?)\d{6}\2\d{4,5})(?![\d]|[ -]\d)"
)

IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)")

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")

# US SSN: area 000, 666 and 900-999, group 00 and serial 0000 are never issued.
SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w]|-\d)")

# UK National Insurance number: the prefix letters exclude D, F, I, Q, U, V (and O second) and the
# prefixes BG, GB, KN, NK, NT, TN and ZZ; the suffix is A to D.
UK_NINO = re.compile(
    r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)"
)

PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w]|[ .-]?\d)")

# National formats need separators, so that a bare run of digits (an order number, a timestamp)
# stays: (555) 123-4567, 555-123-4567, 1-800-555-0199, and trunk-0 numbers such as 020 7946 0958.
PHONE_NATIONAL = re.compile(
    r"(?<![\w.+-])(?:(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}|0\d{1,4}(?:[ -]\d{2,8}){1,4})"
    r"(?![\w]|[.-]\d| \d)"
)

E164_MIN_DIGITS, E164_MAX_DIGITS = 8, 15
NATIONAL_MIN_DIGITS, NATIONAL_MAX_DIGITS = 10, 12


def _whole(valid: bool, candidate: str) -> int | None:
    return len(candidate) if valid else None


def _digit_count(text: str) -> int:
    return sum(char.isdigit() for char in text)


def confirm_card(candidate: str) -> int | None:
    """The whole candidate when its 13 to 19 digits pass the Luhn check."""
    digits = candidate.replace(" ", "").replace("-", "")
    return _whole(13 <= len(digits) <= 19 and luhn_valid(digits), candidate)


def confirm_iban(candidate: str) -> int | None:
    """The leading part that is a valid IBAN: the candidate may run on into the next word."""
    compact = candidate.replace(" ", "").upper()
    length = IBAN_LENGTHS.get(compact[:2], len(compact))
    if len(compact) < length or not iban_valid(compact[:length]):
        return None
    seen = 0
    for end, char in enumerate(candidate, start=1):
        seen += char != " "
        if seen == length:
            # The IBAN must end at a group boundary, not in the middle of the next word.
            rest = candidate[end:]
            return end if not rest or rest[0] == " " else None
    return None


def confirm_ipv4(candidate: str) -> int | None:
    """The whole candidate when every octet is 0 to 255 (without leading zeros)."""
    try:
        ipaddress.IPv4Address(candidate)
    except ValueError:
        return None
    return len(candidate)


def confirm_ipv6(candidate: str) -> int | None:
    """The candidate when it parses as IPv6 and has a digit (`abc::def` is C++, not an address).

    A single trailing colon is punctuation ("reach it at fe80::1: it answers") and is left out.
    """
    if candidate.endswith(":") and not candidate.endswith("::"):
        candidate = candidate[:-1]
    if candidate == "::" or not any(char.isdigit() for char in candidate):
        return None
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    return len(candidate)


def confirm_international_phone(candidate: str) -> int | None:
    """The whole candidate when it has as many digits as an E.164 number can (8 to 15)."""
    return _whole(E164_MIN_DIGITS <= _digit_count(candidate) <= E164_MAX_DIGITS, candidate)


def confirm_national_phone(candidate: str) -> int | None:
    """The whole candidate when it has 10 to 12 digits, as national numbers with an area code do."""
    return _whole(NATIONAL_MIN_DIGITS <= _digit_count(candidate) <= NATIONAL_MAX_DIGITS, candidate)


def confirm_always(candidate: str) -> int | None:
    """The whole candidate: the pattern alone is specific enough."""
    return len(candidate)


DETECTORS: tuple[Detector, ...] = (
    Detector(PiiType.EMAIL, EMAIL, confirm_always, needs="@", needs_digit=False),
    Detector(PiiType.IBAN, IBAN, confirm_iban),
    Detector(PiiType.CREDIT_CARD, CREDIT_CARD, confirm_card),
    Detector(PiiType.IP_ADDRESS, IPV6, confirm_ipv6, needs=":"),
    Detector(PiiType.IP_ADDRESS, IPV4, confirm_ipv4, needs="."),
    Detector(PiiType.NATIONAL_ID, SSN, confirm_always, needs="-"),
    Detector(PiiType.NATIONAL_ID, UK_NINO, confirm_always),
    Detector(PiiType.PHONE, PHONE_INTERNATIONAL, confirm_international_phone, needs="+"),
    Detector(PiiType.PHONE, PHONE_NATIONAL, confirm_national_phone),
)
"""Run in this order, each on the output of the one before: an email's digits are never a phone, an
IBAN's digits are never a card, and an IPv4-mapped IPv6 address is one address, not two."""
