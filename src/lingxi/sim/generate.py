"""Generate the synthetic bank chunk by chunk: bounded memory, resumable, deterministic by seed.

Customers are cut into chunks of `chunk_customers`; chunk i writes OUT/<table>/part-<i>.parquet for
every contract table and OUT/truth/part-<i>.parquet. Each table of each chunk draws from its own
random stream derived from (seed, table, chunk), so a chunk's output never depends on which chunks ran
before it: an interrupted run resumes by skipping chunks whose parts all exist. Memory is bounded by one
chunk's tables (about 1-2 GB at 50,000 customers and 90 days).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import pyarrow as pa
import pyarrow.parquet as pq

from lingxi.errors import ConfigError
from lingxi.keys import DEV_HASH_KEY, key_id
from lingxi.sim.arrays import chunk_rng
from lingxi.sim.calendar import build_calendar
from lingxi.sim.customers import accounts_table, customers_table
from lingxi.sim.events import events_table
from lingxi.sim.fx import build_rates, rates_table
from lingxi.sim.holdings import holdings_table
from lingxi.sim.identities import consent_table, identities_table
from lingxi.sim.params import SimParams
from lingxi.sim.population import draw_population
from lingxi.sim.shelf import build_shelf, products_table
from lingxi.sim.truth import SLEEPING_DOG, response_types, truth_table
from lingxi.sim.writer import part_path, write_part

CHUNK_TABLES = (
    "customers",
    "accounts",
    "holdings",
    "transactions",
    "events",
    "identities",
    "consent_events",
    "truth",
)
MANIFEST = "_sim.json"
FORMAT_VERSION = 2  # 2: foreign currency (fx_rates, FX accounts, holdings and transactions)


@dataclass(frozen=True)
class SimConfig:
    """What to generate. The same config (and library version) always gives the same bytes."""

    customers: int
    days: int = 90
    seed: int = 0
    start: date = date(2025, 1, 1)
    chunk_customers: int = 50_000
    hash_key: str = DEV_HASH_KEY
    params: SimParams = field(default_factory=SimParams)

    def check(self) -> None:
        problems = []
        if self.customers < 1:
            problems.append(f"--customers must be at least 1, got {self.customers}")
        if not 1 <= self.days <= 3_660:
            problems.append(f"--days must be between 1 and 3660, got {self.days}")
        if self.chunk_customers < 1:
            problems.append(f"--chunk-customers must be at least 1, got {self.chunk_customers}")
        if not 0 <= self.seed < 2**63:
            problems.append(f"--seed must be a non-negative integer, got {self.seed}")
        if problems:
            raise ConfigError("; ".join(problems), hint="see `lingxi sim --help`")

    @property
    def chunks(self) -> int:
        return -(-self.customers // self.chunk_customers)

    def manifest(self) -> dict[str, object]:
        """What identifies the output; the hash key is never written, only its id (a fingerprint)."""
        return {
            "format_version": FORMAT_VERSION,
            "customers": self.customers,
            "days": self.days,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "chunk_customers": self.chunk_customers,
            "hash_key_id": key_id(self.hash_key),
            "params": repr(asdict(self.params)),
        }


@dataclass(frozen=True)
class Progress:
    """Reported after each chunk; `rows` is cumulative per table."""

    chunk: int
    chunks: int
    customers_done: int
    skipped: bool
    rows: dict[str, int]


@dataclass(frozen=True)
class SimSummary:
    rows: dict[str, int]
    chunks: int
    skipped_chunks: int
    seconds: float

    @property
    def events(self) -> int:
        """Behavioural and monetary rows together (what "events/s" counts)."""
        return self.rows.get("events", 0) + self.rows.get("transactions", 0)


def _check_manifest(out: Path, config: SimConfig) -> None:
    path = out / MANIFEST
    wanted = config.manifest()
    if path.exists():
        found = json.loads(path.read_text(encoding="utf-8"))
        if found != wanted:
            diff = sorted(k for k in wanted if found.get(k) != wanted[k])
            raise ConfigError(
                f"`{out}` holds a simulation made with different settings ({', '.join(diff)})",
                hint="use a new --out folder, or delete this one to regenerate",
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def generate_chunk(config: SimConfig, chunk: int) -> dict[str, object]:
    """All tables of one chunk, in memory (the unit of work, of resumption and of memory)."""
    p, seed = config.params, config.seed
    first = chunk * config.chunk_customers
    n = min(config.chunk_customers, config.customers - first)
    pop = draw_population(seed, chunk, first, n, config.start, config.days, p)
    shelf = build_shelf()
    cal = build_calendar(pop.start_day, config.days, p.weekend_spend, p.month_end_bills)
    kind = response_types(pop, p, seed, chunk)
    rates = build_rates(config.start, config.days, seed)
    customers = customers_table(pop, seed, config.hash_key)
    events, purchases = events_table(pop, shelf, p, chunk_rng(seed, "events", chunk), chunk)
    from lingxi.sim.transactions import transactions_table

    return {
        "customers": customers,
        "accounts": accounts_table(pop, config.hash_key, chunk_rng(seed, "accounts", chunk)),
        "holdings": holdings_table(pop, shelf, config.start, p, chunk_rng(seed, "holdings", chunk), rates),
        "transactions": transactions_table(
            pop, shelf, cal, purchases, p, chunk_rng(seed, "transactions", chunk), chunk, rates
        ),
        "events": events,
        "identities": identities_table(pop, customers, config.hash_key, chunk_rng(seed, "identities", chunk)),
        "consent_events": consent_table(pop, kind == SLEEPING_DOG, p, chunk_rng(seed, "consents", chunk), chunk),
        "truth": truth_table(pop, kind, p, seed, chunk),
    }


def generate(out: Path | str, config: SimConfig, progress: Callable[[Progress], None] | None = None) -> SimSummary:
    """Write the synthetic bank under `out`; skips chunks already written (resume).

    Examples:
        >>> summary = generate("out/bank", SimConfig(customers=10_000, seed=7))  # doctest: +SKIP
        >>> summary.rows["customers"]  # doctest: +SKIP
        10000
    """
    config.check()
    out = Path(out)
    _check_manifest(out, config)
    started = time.perf_counter()
    products = part_path(out, "products", 0)
    if not products.exists():
        write_part(products_table(config.start), products)
    fx_rates = part_path(out, "fx_rates", 0)
    if not fx_rates.exists():  # the same for every chunk: the rates of the window, on business days
        write_part(rates_table(build_rates(config.start, config.days, config.seed)), fx_rates)
    rows = {"products": pq.read_metadata(products).num_rows, "fx_rates": pq.read_metadata(fx_rates).num_rows}
    skipped = 0
    for chunk in range(config.chunks):
        paths = {t: part_path(out, t, chunk) for t in CHUNK_TABLES}
        done = all(path.exists() for path in paths.values())
        if done:
            skipped += 1
            counts = {t: pq.read_metadata(path).num_rows for t, path in paths.items()}
        else:
            tables = generate_chunk(config, chunk)
            counts = {}
            for t, path in paths.items():
                table = cast(pa.Table, tables[t])
                counts[t] = table.num_rows
                if not path.exists():
                    write_part(table, path)
            del tables
        for t, c in counts.items():
            rows[t] = rows.get(t, 0) + c
        if progress is not None:
            done_customers = min((chunk + 1) * config.chunk_customers, config.customers)
            progress(Progress(chunk, config.chunks, done_customers, done, dict(rows)))
    return SimSummary(rows, config.chunks, skipped, time.perf_counter() - started)
