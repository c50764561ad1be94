"""The CNY conversion agrees everywhere: `in_cny` in SQL on each engine and `to_cny` in Python.

The tier snapshot converts in SQL and the customer 360 in Python (lingxi.customers.money); both must give
the same fen, half-fen cases and negative amounts (card debt) included, or the 360's AUM would differ from
the tier it shows.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
from sqlglot import exp

from lingxi.engine import Engine
from lingxi.engine.sql import col, table
from lingxi.schema.fx import in_cny, to_cny

CASES = [  # (amount, currency, rate)
    ("1000.00", "USD", "7.123400"),
    ("0.50", "USD", "0.010000"),  # 0.005: half a fen, away from zero
    ("-0.50", "USD", "0.010000"),  # -0.005
    ("-1200.50", "HKD", "0.915678"),
    ("12345678.91", "JPY", "0.047123"),
    ("0.01", "EUR", "7.777777"),
    ("999.99", "CNY", "7.000000"),  # CNY is itself, whatever the rate
    ("1.00", "GBP", None),  # no rate: NULL
]


def test_in_cny_on_every_engine_equals_to_cny_in_python(engine: Engine) -> None:
    amounts = pa.table(
        {
            "i": list(range(len(CASES))),
            "amount": pa.array([Decimal(a) for a, _, _ in CASES], pa.decimal128(18, 2)),
            "currency": [c for _, c, _ in CASES],
            "rate": pa.array([None if r is None else Decimal(r) for *_, r in CASES], pa.decimal128(18, 6)),
        }
    )
    engine.register_arrow("lx_fx_cases", amounts)
    query = exp.select(col("i"), in_cny(col("amount"), col("currency"), col("rate")).as_("cny")).from_(
        table("lx_fx_cases")
    )
    got = {r["i"]: r["cny"] for r in engine.run(query, label="in_cny").to_pylist()}
    expected = {
        i: Decimal(a) if c == "CNY" else None if r is None else to_cny(Decimal(a), Decimal(r))
        for i, (a, c, r) in enumerate(CASES)
    }
    assert got == expected
    assert (expected[1], expected[2]) == (Decimal("0.01"), Decimal("-0.01"))
