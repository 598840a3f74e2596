"""Values as people type them, parsed by mixdown: times, dates, money, percentages, text.

Money is integer minor units (cents) with an ISO 4217 currency; shares are integer basis
points (1/100 of a percent, 10000 = 100 %). No floats anywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from mixdown.ledger.errors import LedgerError

CURRENCY_DIGITS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
    "HKD": 2, "HUF": 2, "INR": 2, "ISK": 0, "JPY": 0, "KRW": 0, "MXN": 2, "NOK": 2, "NZD": 2,
    "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2, "KWD": 3, "BHD": 3,
}
"""Currencies the ledger knows, with their number of minor-unit digits (ISO 4217)."""

MAX_MINOR = 10**13
"""Largest amount accepted, in minor units (10^11 euros is not a studio budget)."""

NAME_MAX = 200
TEXT_MAX = 10_000
FULL_SHARE = 10_000
"""100 % in basis points."""


def check_text(value: str, what: str, *, limit: int = NAME_MAX, multiline: bool = False,
               required: bool = True) -> str:
    """``value`` stripped, checked for UTF-8, control characters and length.

    Raises
    ------
    LedgerError
        Empty (when required), not valid UTF-8, a control character, or longer than ``limit``.
    """
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise LedgerError(f"{what} is not valid UTF-8 text")
    text = value.strip()
    if required and not text:
        raise LedgerError(f"{what} is empty")
    allowed = "\n\t" if multiline else ""
    bad = [c for c in text if (ord(c) < 32 or ord(c) == 127) and c not in allowed]
    if bad:
        raise LedgerError(f"{what} contains a control character ({ord(bad[0]):#04x})")
    if len(text) > limit:
        raise LedgerError(f"{what} is {len(text)} characters long; at most {limit} allowed")
    return text


def parse_datetime(text: str, what: str = "time") -> datetime:
    """ISO 8601 date and time -> naive UTC; local time unless a zone is given.

    Raises
    ------
    LedgerError
        Not ISO 8601 (``2026-12-01T10:00``, ``2026-12-01T10:00+01:00``, ``...Z``).
    """
    raw = check_text(text, what)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise LedgerError(f"{what} {text!r} is not an ISO 8601 date and time "
                          "(e.g. 2026-12-01T10:00 or 2026-12-01T10:00+01:00)") from None
    if "T" not in raw and " " not in raw:
        raise LedgerError(f"{what} {text!r} has no time of day (e.g. 2026-12-01T10:00)")
    if value.tzinfo is None:
        value = value.astimezone()  # local time
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def parse_date(text: str, what: str = "date") -> date:
    """``YYYY-MM-DD`` -> date.

    Raises
    ------
    LedgerError
        Anything else, or a day that does not exist.
    """
    raw = check_text(text, what)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise LedgerError(f"{what} {text!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise LedgerError(f"{what} {text!r} is not a real date: {exc}") from None


def parse_currency(text: str) -> str:
    """An ISO 4217 code the ledger knows (upper-cased)."""
    code = check_text(text, "currency").upper()
    if code not in CURRENCY_DIGITS:
        known = ", ".join(sorted(CURRENCY_DIGITS))
        raise LedgerError(f"currency {text!r} is unknown; known: {known}")
    return code


def _decimal(text: str, what: str) -> Decimal:
    raw = check_text(text, what).replace("_", "")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", raw):
        raise LedgerError(f"{what} {text!r} is not a number (digits, optionally with a "
                          "decimal point)")
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        raise LedgerError(f"{what} {text!r} is not a number") from None


def parse_money(text: str, currency: str, what: str = "amount") -> int:
    """``"60"``, ``"60.5"``, ``"1234.56"`` in ``currency`` -> integer minor units.

    Raises
    ------
    LedgerError
        Not a number, negative, more decimals than the currency has, or too large.
    """
    value = _decimal(text, what)
    if value < 0:
        raise LedgerError(f"{what} {text!r} is negative; money in the ledger is never negative")
    digits = CURRENCY_DIGITS[currency]
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise LedgerError(f"{what} {text!r} has more than {digits} decimals for {currency}")
    if minor >= MAX_MINOR:
        raise LedgerError(f"{what} {text!r} is too large")
    return int(minor)


def format_money(minor: int, currency: str) -> str:
    """Integer minor units -> ``"1234.56 EUR"``."""
    digits = CURRENCY_DIGITS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f} {currency}"


def money_text(minor: int, currency: str) -> str:
    """Integer minor units -> ``"1234.56"`` (no currency)."""
    digits = CURRENCY_DIGITS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def parse_share(text: str, what: str = "share") -> int:
    """A percentage (``"60"``, ``"33.33"``) -> basis points (6000, 3333); exact.

    Raises
    ------
    LedgerError
        Not a number, more than two decimals, or outside 0-100.
    """
    value = _decimal(text.rstrip().removesuffix("%"), what)
    bp = value * 100
    if bp != bp.to_integral_value():
        raise LedgerError(f"{what} {text!r} has more than two decimals (a percentage such as "
                          "33.33)")
    if not 0 < bp <= FULL_SHARE:
        raise LedgerError(f"{what} {text!r} must be more than 0 and at most 100 percent")
    return int(bp)


def share_text(bp: int) -> str:
    """Basis points -> ``"33.33"`` (percent)."""
    return f"{Decimal(bp).scaleb(-2):.2f}"


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """``"Name=value"`` -> ``("Name", "value")`` (split at the last ``=``)."""
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip() or not value.strip():
        raise LedgerError(f"{what} {text!r} must be NAME=VALUE")
    return name.strip(), value.strip()


def parse_positive_int(text: str, what: str) -> int:
    """A whole number > 0 (an id, a count of days)."""
    raw = check_text(text, what)
    if not re.fullmatch(r"\d{1,9}", raw) or int(raw) == 0:
        raise LedgerError(f"{what} {text!r} must be a whole number above 0")
    return int(raw)


def utc_iso(value: datetime) -> str:
    """A naive UTC datetime -> ``"2026-12-01T09:00:00Z"``."""
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def local_text(value: datetime) -> str:
    """A naive UTC datetime shown in local time, ``"2026-12-01 10:00"``."""
    return value.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


__all__ = ["CURRENCY_DIGITS", "FULL_SHARE", "check_text", "format_money", "local_text",
           "money_text", "parse_assignment", "parse_currency", "parse_date", "parse_datetime",
           "parse_money", "parse_positive_int", "parse_share", "share_text", "utc_iso"]
