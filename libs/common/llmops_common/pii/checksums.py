"""The check digits that tell a card number or an IBAN from a number that merely looks like one."""

from __future__ import annotations

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
"""IBAN length per country, from the SWIFT IBAN registry (ISO 13616)."""

IBAN_MIN_LENGTH, IBAN_MAX_LENGTH = 15, 34


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """Whether `iban` (upper case, no spaces) passes the ISO 13616 mod-97 check and its country's length."""
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        if not IBAN_MIN_LENGTH <= len(iban) <= IBAN_MAX_LENGTH:
            return False
    elif len(iban) != expected:
        return False
    if not (iban[:2].isalpha() and iban[2:4].isdigit() and iban.isalnum() and iban.isascii()):
        return False
    rearranged = iban[4:] + iban[:4]
    # Letters count as two-digit numbers, A = 10 to Z = 35; int(char, 36) maps digits and letters alike.
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1
