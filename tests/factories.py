"""Small, readable contract files for tests (the synthetic bank makes the big ones)."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lingxi.schema import get_table


def customers(n: int = 50, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    surnames = "王李张刘陈杨黄赵吴周"
    return [
        {
            "customer_id": f"C{i:06d}",
            "branch_id": f"BR{rng.randint(1, 4):02d}",
            "name": rng.choice(surnames) + rng.choice(["伟", "芳", "娜", "敏", "静"]),
            "birth_date": (date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))).isoformat(),
            "gender": rng.choice("MF"),
            "city": rng.choice(["北京", "杭州", "成都", "洛阳"]),
            "city_tier": str(rng.randint(1, 4)),
            "risk_level": f"C{rng.randint(1, 5)}",
            "onboarded_at": "2020-01-01 09:00:00",
        }
        for i in range(1, n + 1)
    ]


def products() -> list[dict[str, Any]]:
    kinds = [("deposit", "R1"), ("time_deposit", "R1"), ("wealth", "R2"), ("fund", "R4"), ("insurance", "R2")]
    return [
        {"product_id": f"P{i:03d}", "name": f"产品{i}", "type": kind, "risk_level": risk, "min_amount": "1000.00"}
        for i, (kind, risk) in enumerate(kinds, start=1)
    ]


def transactions(n: int, customer_ids: list[str], seed: int = 2, start: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = datetime(2026, 9, 1)
    return [
        {
            "txn_id": f"T{i:09d}",
            "customer_id": rng.choice(customer_ids),
            "ts": (base + timedelta(minutes=rng.randint(0, 60 * 24 * 80))).strftime("%Y-%m-%d %H:%M:%S"),
            "amount": f"{rng.uniform(1, 50000):.2f}",
            "direction": rng.choice(["credit", "debit"]),
            "channel": rng.choice(["app", "counter", "atm"]),
            "category": rng.choice(["salary", "consumption", "transfer_out"]),
        }
        for i in range(start, start + n)
    ]


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def contract_columns(table: str) -> list[str]:
    return get_table(table).column_names


def id_number(birth: date, serial: int = 1, male: bool = True, region: str = "110105", *, check: bool = True) -> str:
    """An 18-digit resident ID number (GB 11643) for `birth`; `check=False` gives it a wrong check character."""
    body = f"{region}{birth:%Y%m%d}{serial % 100:02d}{(2 * (serial % 5) + (1 if male else 0)) % 10}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    right = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    wrong = "10X98765432"[(sum(int(d) * w for d, w in zip(body, weights, strict=True)) + 1) % 11]
    return body + (right if check else wrong)
