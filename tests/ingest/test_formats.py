"""The reader stage's number formats and separators, value by value (no engine, milliseconds)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from lingxi.ingest.formats import normalise_number
from lingxi.ingest.layout import NumberFormat, parse_delimiter


def as_decimal(text: str) -> Decimal | None:
    """The value as the loader's checks read it (checks.py: TRY_CAST to the contract's DECIMAL(18,2))."""
    row = duckdb.connect().execute("SELECT TRY_CAST(? AS DECIMAL(18,2))", [text]).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("written", "sign", "implied", "value"),
    [
        ("+00001234.50", "leading", 0, "1234.50"),  # DB2 DEL: read as written
        ("-0000012.30", "leading", 0, "-12.30"),
        ("0000123450", "leading", 2, "1234.50"),
        ("-0000123450", "leading", 2, "-1234.50"),
        ("5", "leading", 2, "0.05"),
        ("00000", "leading", 2, "0.00"),
        ("12.30", "leading", 2, "12.30"),  # a point of its own wins over the implied one
        ("0000012.30-", "trailing", 0, "-12.30"),
        ("0000500000-", "trailing", 2, "-5000.00"),
        ("     50000+ ", "trailing", 2, "500.00"),  # blank-padded on the left
        ("42", "trailing", 0, "42"),
    ],
)
def test_numbers_as_unloads_write_them_read_as_decimals(written: str, sign: str, implied: int, value: str) -> None:
    text = normalise_number(written, NumberFormat(sign=sign, implied_decimals=implied))  # type: ignore[arg-type]
    assert as_decimal(text) == Decimal(value)


@pytest.mark.parametrize("written", ["12X.00", "1-2", "--5", "1.2.3-", "", "   ", "-"])
def test_what_is_not_a_number_stays_unreadable(written: str) -> None:
    text = normalise_number(written, NumberFormat(sign="trailing", implied_decimals=2))
    assert as_decimal(text) is None
    if not written.strip():  # a blank fixed-width field stays blank: the checks say missing, never 0.00
        assert text == ""


@pytest.mark.parametrize(
    ("written", "separator"),
    [("|", "|"), ("0x1e", "\x1e"), ("0x1E", "\x1e"), ("\\x1e", "\x1e"), ("\x1e", "\x1e"), ("tab", "\t"), ("\\t", "\t")],
)
def test_separators_may_be_written_by_name_or_code(written: str, separator: str) -> None:
    assert parse_delimiter(written) == separator


@pytest.mark.parametrize("written", ["||", "0x1", "\n", ""])
def test_a_separator_is_one_character(written: str) -> None:
    with pytest.raises(ValueError, match="one character"):
        parse_delimiter(written)
