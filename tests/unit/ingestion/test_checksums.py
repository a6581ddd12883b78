"""Card numbers carry a Luhn check digit and IBANs a mod-97 check: lookalikes fail them."""

from __future__ import annotations

import pytest

from llmops_common.pii.checksums import iban_valid, luhn_valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("5500000000000004", True),
        ("378282246310005", True),
        ("4111111111111112", False),
        ("1234567812345678", False),
        ("0", True),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("DE89370400440532013000", True),
        ("FR1420041010050500013M02606", True),
        ("NO9386011117947", True),
        ("GB82WEST12345698765433", False),
        ("GB82WEST1234569876543", False),
        ("DE89370400440532013000X", False),
        ("GB82WEST1234569876543!", False),
        ("XX00", False),
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid
