"""The regex redactor replaces each kind of PII by its placeholder and leaves lookalikes alone."""

from __future__ import annotations

import pytest

from llmops_common.pii.regex_redactor import RegexRedactor
from llmops_common.pii.types import PiiType, Redaction

REDACTOR = RegexRedactor()


@pytest.mark.parametrize(
    ("text", "redacted", "pii_type"),
    [
        ("mail jane.doe+tag@mail.example.co.uk.", "mail [EMAIL].", PiiType.EMAIL),
        ("call +44 20 7946 0958 now", "call [PHONE] now", PiiType.PHONE),
        ("call +1 (555) 123-4567 now", "call [PHONE] now", PiiType.PHONE),
        ("call +4915112345678 now", "call [PHONE] now", PiiType.PHONE),
        ("call (555) 123-4567 now", "call [PHONE] now", PiiType.PHONE),
        ("call 555.123.4567 now", "call [PHONE] now", PiiType.PHONE),
        ("call 1-800-555-0199 now", "call [PHONE] now", PiiType.PHONE),
        ("call 020 7946 0958 now", "call [PHONE] now", PiiType.PHONE),
        ("call 07700 900123 now", "call [PHONE] now", PiiType.PHONE),
        ("call 01 23 45 67 89 now", "call [PHONE] now", PiiType.PHONE),
        ("card 4111 1111 1111 1111 ok", "card [CREDIT_CARD] ok", PiiType.CREDIT_CARD),
        ("card 4111-1111-1111-1111 ok", "card [CREDIT_CARD] ok", PiiType.CREDIT_CARD),
        ("card 4111111111111111 ok", "card [CREDIT_CARD] ok", PiiType.CREDIT_CARD),
        ("card 3782 822463 10005 ok", "card [CREDIT_CARD] ok", PiiType.CREDIT_CARD),
        ("iban GB82 WEST 1234 5698 7654 32 ok", "iban [IBAN] ok", PiiType.IBAN),
        ("iban DE89370400440532013000 ok", "iban [IBAN] ok", PiiType.IBAN),
        ("iban FR14 2004 1010 0505 0001 3M02 606 ok", "iban [IBAN] ok", PiiType.IBAN),
        ("host 192.168.1.1.", "host [IP_ADDRESS].", PiiType.IP_ADDRESS),
        ("host 2001:db8::8a2e:370:7334 up", "host [IP_ADDRESS] up", PiiType.IP_ADDRESS),
        ("host ::1 up", "host [IP_ADDRESS] up", PiiType.IP_ADDRESS),
        ("host ::ffff:192.0.2.1 up", "host [IP_ADDRESS] up", PiiType.IP_ADDRESS),
        ("reach fe80::1: it answers", "reach [IP_ADDRESS]: it answers", PiiType.IP_ADDRESS),
        ("ssn 123-45-6789 ok", "ssn [NATIONAL_ID] ok", PiiType.NATIONAL_ID),
        ("nino AB 12 34 56 C ok", "nino [NATIONAL_ID] ok", PiiType.NATIONAL_ID),
        ("nino AB123456C ok", "nino [NATIONAL_ID] ok", PiiType.NATIONAL_ID),
    ],
)
def test_each_kind_is_replaced_by_its_placeholder(text: str, redacted: str, pii_type: PiiType) -> None:
    assert REDACTOR.redact(text) == Redaction(redacted, {pii_type: 1})


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails Luhn",
        "reference 1234567812345678 fails Luhn",
        "iban GB82 WEST 1234 5698 7654 33 fails mod-97",
        "iban GB82 WEST 1234 5698 7654 3 is too short",
        "address 999.1.1.1 has an octet over 255",
        "version 1.2.3 and 1.2.3.4.5",
        "in 2024, 1999 and 2023-2024",
        "it cost $1,299.99 or 1 500 000 dollars, or 12.50 EUR",
        "order 1234567890 and ticket 20240115",
        "dates 2024-01-15, 01-02-2024 and 15.01.2024",
        "at 12:30:45, C++ std::vector, abc::def, MAC 00:1A:2B:3C:4D:5E",
        "ssn 000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000",
        "nino QQ123456C GB123456A AB123456E",
        "no email user@ or @example.com",
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert REDACTOR.redact(text) == Redaction(text, {})


def test_hits_are_counted_per_type() -> None:
    text = "a@example.com, b@example.com, +44 20 7946 0958, 10.0.0.1 and fe80::1"

    redaction = REDACTOR.redact(text)

    assert redaction.text == "[EMAIL], [EMAIL], [PHONE], [IP_ADDRESS] and [IP_ADDRESS]"
    assert redaction.hits == {PiiType.EMAIL: 2, PiiType.PHONE: 1, PiiType.IP_ADDRESS: 2}


def test_two_ibans_in_a_row_are_two_hits() -> None:
    redaction = REDACTOR.redact("GB82 WEST 1234 5698 7654 32 DE89 3704 0044 0532 0130 00 done")

    assert redaction == Redaction("[IBAN] [IBAN] done", {PiiType.IBAN: 2})


def test_an_iban_followed_by_words_ends_where_its_country_says() -> None:
    redaction = REDACTOR.redact("GB82 WEST 1234 5698 7654 32 AND MORE")

    assert redaction == Redaction("[IBAN] AND MORE", {PiiType.IBAN: 1})
