"""Values as typed: times, dates, money, shares, text, ISRC and UPC/EAN codes."""

from __future__ import annotations

from datetime import datetime

import pytest

from mixdown.core.codes import gtin_check_digit, normalize_isrc, normalize_upc
from mixdown.core.errors import ParameterError
from mixdown.delivery.tags import Metadata
from mixdown.ledger.errors import LedgerError
from mixdown.ledger.values import (
    check_text,
    format_money,
    parse_date,
    parse_datetime,
    parse_money,
    parse_share,
)


def test_times_are_local_unless_a_zone_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Madrid")
    time.tzset()
    try:
        assert parse_datetime("2026-12-01T10:00") == datetime(2026, 12, 1, 9, 0)  # CET = UTC+1
        assert parse_datetime("2026-07-01T10:00") == datetime(2026, 7, 1, 8, 0)  # CEST
        assert parse_datetime("2026-12-01T10:00Z") == datetime(2026, 12, 1, 10, 0)
        assert parse_datetime("2026-12-01T10:00-05:00") == datetime(2026, 12, 1, 15, 0)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("bad", ["2026-13-01T10:00", "2026-12-01", "tomorrow", "2026-12-01T25:00",
                                 "12/01/2026 10:00", ""])
def test_malformed_times_are_one_clear_error(bad: str) -> None:
    with pytest.raises(LedgerError, match=r"time|date|empty"):
        parse_datetime(bad, "start")


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-2-3", "15/01/2027", "2027-01-15T00:00"])
def test_bad_dates(bad: str) -> None:
    with pytest.raises(LedgerError, match="date"):
        parse_date(bad)


def test_money_is_exact_minor_units() -> None:
    assert parse_money("60", "EUR") == 6000
    assert parse_money("62.5", "EUR") == 6250
    assert parse_money("0.10", "USD") == 10
    assert parse_money("1500", "JPY") == 1500
    assert parse_money("1.234", "KWD") == 1234
    assert format_money(123456, "EUR") == "1234.56 EUR"
    assert format_money(1500, "JPY") == "1500 JPY"


@pytest.mark.parametrize(("text", "currency", "match"), [
    ("-5", "EUR", "negative"), ("1.005", "EUR", "decimals"), ("1.5", "JPY", "decimals"),
    ("1e3", "EUR", "not a number"), ("abc", "EUR", "not a number"),
    ("99999999999999", "EUR", "too large"), ("NaN", "EUR", "not a number"),
])
def test_bad_money(text: str, currency: str, match: str) -> None:
    with pytest.raises(LedgerError, match=match):
        parse_money(text, currency)


def test_shares_are_basis_points() -> None:
    assert parse_share("60") == 6000
    assert parse_share("33.33") == 3333
    assert parse_share("100%") == 10000
    with pytest.raises(LedgerError, match="two decimals"):
        parse_share("33.333")
    with pytest.raises(LedgerError, match="at most 100"):
        parse_share("100.01")
    with pytest.raises(LedgerError, match="more than 0"):
        parse_share("0")


def test_text_checks() -> None:
    assert check_text("  Ana  ", "name") == "Ana"
    sql = "Robert'); DROP TABLE ledger_people;--"
    assert check_text(sql, "name") == sql  # data, never code
    with pytest.raises(LedgerError, match="UTF-8"):
        check_text(b"Ana \xff".decode("utf-8", "surrogateescape"), "name")
    with pytest.raises(LedgerError, match="at most 200"):
        check_text("x" * 201, "name")
    with pytest.raises(LedgerError, match="control character"):
        check_text("Ana\x00", "name")
    with pytest.raises(LedgerError, match="empty"):
        check_text("   ", "name")


def test_isrc_syntax_is_shared_with_delivery() -> None:
    assert normalize_isrc("US-RC1-76-07839") == "USRC17607839"
    assert normalize_isrc("usrc17607839") == "USRC17607839"
    for bad in ("USRC1760783", "US-RC1-76-0783X", "1SRC17607839", "USRC176078390"):
        with pytest.raises(ParameterError, match="ISRC"):
            normalize_isrc(bad)
    assert Metadata(isrc="GB-ABC-26-00001").isrc == "GBABC2600001"  # delivery uses core's
    with pytest.raises(ParameterError, match="ISRC"):
        Metadata(isrc="GB-ABC-26-0001")


def test_upc_and_ean_check_digits() -> None:
    assert normalize_upc("012345678905") == "012345678905"  # UPC-A
    assert normalize_upc("036000291452") == "036000291452"  # a GS1 example
    assert normalize_upc("4006381333931") == "4006381333931"  # EAN-13
    assert gtin_check_digit("03600029145") == 2
    with pytest.raises(ParameterError, match="check digit: the last digit should be 5"):
        normalize_upc("012345678906")
    with pytest.raises(ParameterError, match="check digit"):
        normalize_upc("012345687905")  # two digits swapped
    with pytest.raises(ParameterError, match="12 digits"):
        normalize_upc("01234567890")
