"""Vectorised building blocks: per-chunk random streams, ids, strings, money, times and keyed hashes.

Everything here turns numpy arrays into Arrow arrays without a Python loop per row, except the
keyed hash (HMAC-SHA256 has no vectorised implementation in numpy or pyarrow; `hmac.digest` is the
C fast path and costs about a microsecond a value).
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
EPOCH = date(1970, 1, 1)


def chunk_rng(seed: int, stream: str, chunk: int) -> np.random.Generator:
    """An independent PCG64 stream for (seed, stream, chunk).

    Deriving every chunk's stream from the triple (rather than drawing chunks in sequence from one
    generator) is what makes chunks resumable and parallelisable: chunk 17 of `transactions` is the
    same whether or not chunks 0-16 were generated in this process.
    """
    stream_key = zlib.crc32(stream.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream_key, chunk])))


def day_number(d: date) -> int:
    """Days since 1970-01-01 (Arrow's date32)."""
    return (d - EPOCH).days


def to_date(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32())


def to_timestamp(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.timestamp("us"), mask=mask)


def to_money(values: np.ndarray) -> pa.Array:
    """CNY amounts as decimal(18,2), rounded to the fen."""
    return pc.cast(pa.array(np.round(np.asarray(values, dtype=np.float64), 2)), pa.decimal128(18, 2), safe=False)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded number, e.g. C000012345, built in Arrow's C++ kernels."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def take_strings(vocabulary: Sequence[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Categorical codes to a plain string array (the contract types are strings, not dictionaries)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=None if valid is None else ~valid)
    return pc.take(pa.array(list(vocabulary), type=pa.string()), indices)


def join_strings(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals (JSON properties, names)."""
    return pc.binary_join_element_wise(*parts, "")


def keyed_hash(values: pa.Array | Sequence[str], key: str) -> pa.Array:
    """64-hex HMAC-SHA256 of each value, the contract's form for ID numbers and phones."""
    raw = key.encode("utf-8")
    items = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    return pa.array([hmac.digest(raw, v.encode("utf-8"), hashlib.sha256).hex() for v in items], pa.string())


def pick(rng: np.random.Generator, probs: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Categorical codes drawn with the given probabilities (normalised)."""
    p = np.asarray(probs, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right").clip(0, len(p) - 1)


def pick_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a (rows x options) weight matrix; rows of zeros give -1."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    u = rng.random(len(weights)) * total
    choice = (cum <= u[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(choice, weights.shape[1] - 1), -1)


def expand(counts: np.ndarray) -> np.ndarray:
    """Row index repeated `counts` times: the vectorised form of `for i: for _ in range(counts[i])`."""
    return np.repeat(np.arange(len(counts)), counts)


def rank_within(counts: np.ndarray) -> np.ndarray:
    """0..counts[i]-1 for each group, aligned with expand(counts)."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def datetime_us(d: date | datetime) -> int:
    if isinstance(d, datetime):
        return int((d - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    return day_number(d) * US_PER_DAY
