"""Recording and product codes: ISRC syntax and UPC/EAN check digits.

One check each, shared by delivery (tags) and the ledger (releases).
"""

from __future__ import annotations

import re

from mixdown.core.errors import ParameterError

_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")


def normalize_isrc(isrc: str) -> str:
    """``"GB-ABC-26-00001"`` -> ``"GBABC2600001"`` (stored without hyphens).

    Raises
    ------
    ParameterError
        The code is not CC-XXX-YY-NNNNN (ISO 3901).
    """
    code = re.sub(r"[\s-]", "", isrc).upper()
    if not _ISRC.match(code):
        raise ParameterError(
            f"ISRC {isrc!r} is malformed: expected CC-XXX-YY-NNNNN (2 letters, 3 letters or "
            "digits, 2-digit year, 5-digit number), e.g. GB-ABC-26-00001"
        )
    return code


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of the digits ``body`` (all but the last digit of a GTIN)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_upc(code: str) -> str:
    """A UPC-A (12 digits) or EAN-13 (13 digits) with a correct check digit, spaces and
    hyphens removed.

    Raises
    ------
    ParameterError
        Not 12 or 13 digits, or the check digit is wrong (a typo).
    """
    digits = re.sub(r"[\s-]", "", code)
    if not re.fullmatch(r"[0-9]{12,13}", digits):
        raise ParameterError(f"UPC/EAN {code!r} is malformed: expected 12 digits (UPC-A) or "
                             "13 digits (EAN-13)")
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ParameterError(f"UPC/EAN {code!r} has a wrong check digit: the last digit should "
                             f"be {expected}, got {digits[-1]} (a typo?)")
    return digits


__all__ = ["gtin_check_digit", "normalize_isrc", "normalize_upc"]
