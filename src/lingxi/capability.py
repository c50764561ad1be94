"""What a capability declares about itself, in one place of its own folder (`<capability>/capability.py`).

Lingxi grows by capabilities (identity, tags, segments, models, ...). Each one declares here what the rest
of the platform must know about it, so that nothing central is edited when one is added:

- its **pipeline stages**, with the stages they follow (`lingxi pipeline run` orders them);
- its **permissions** and the roles granted each by default (the authorisation matrix);
- its **audit actions** (the audit log accepts and lists them);
- its **navigation entries** and their labels in zh-CN and English (the console);
- its **ORM tables** (they reach Alembic's `migrations/env.py` through the registry); Lingxi's own
  capabilities add their migrations to the one history in `store/migrations/versions/`, a plug-in brings
  its own branch (`migrations`, depending on Lingxi's revision it needs), which `lingxi init` applies too;
- the lake datasets the console reads per customer, which the serving reader keeps in memory (`served`);
- **where it keeps customer data** — operational tables and lake datasets — and how each is exported and
  erased (data-subject requests act on every declaration, and refuse to run while a table holding a
  `customer_id` is declared by nobody).

Routes, pages and CLI commands stay in the faces and are found by convention: `api/routes/<name>.py`,
`web/<name>.py`, `cli/<name>.py` inside Lingxi, and `api.py`, `web.py`, `cli.py` inside a capability
package that lives outside it (a bank's own plug-in). The registry (lingxi.registry) finds the
declarations. This module is at the base of the layers: it imports nothing of Lingxi's upper layers, so
every layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lingxi.keys import HashKey

if TYPE_CHECKING:  # annotations only: this module sits below the store and the engines it names
    from sqlalchemy import Connection, Engine, Table

    from lingxi.engine import Engine as AnalyticEngine
    from lingxi.store import Lake

Section = Literal["work", "build", "govern"]


@dataclass
class StageContext:
    """What every pipeline stage may use (`lingxi pipeline run` builds it from the settings).

    Two engines: `engine` is the analytic engine (LINGXI_ENGINE: DuckDB or Spark) every analytic stage
    uses; `loader` is the DuckDB engine the loader always runs on, beside it (lingxi.ingest.load).
    """

    lake: Lake
    engine: AnalyticEngine
    loader: AnalyticEngine
    extracts: Path | None = None
    as_of: date = field(default_factory=date.today)
    max_bad: float = 0.01
    hash_key: HashKey = ""
    chunk_rows: int = 1_000_000
    future_tolerance_hours: float = 24.0  # see Settings.load_future_tolerance_hours
    loads: list[Any] = field(default_factory=list)  # the load stage's reports (lingxi.ingest.load.LoadReport)
    compact_min_files: int = 8  # compaction merges a partition once it has this many files
    version_retention_days: float = 30.0  # earlier lake versions kept for rollback (lingxi.store.retention)


@dataclass(frozen=True)
class Stage:
    """One step of the daily pipeline. `run` takes the context and returns a one-line summary."""

    name: str
    description: str
    run: Callable[[StageContext], str]
    after: tuple[str, ...] = ()  # stages that must run first (when they are part of the run)
    reads: tuple[str, ...] = ()  # lake datasets it computes from
    writes: tuple[str, ...] = ()  # lake datasets it publishes: stale once one it reads is rolled back


@dataclass(frozen=True)
class PermissionGrant:
    """A permission the capability adds, and the roles that hold it by default (role names of lingxi.auth)."""

    name: str  # "<capability>:<verb>", e.g. "segments:write"
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavEntry:
    """A console navigation entry; `key` is a catalogue key (a plug-in adds its text with `Capability.messages`)."""

    key: str
    href: str
    section: Section
    permission: str | None = None
    match: str | None = None  # the entry is active under this path prefix (default: under `href`)


@dataclass(frozen=True)
class Served:
    """A lake dataset the console reads per customer: the serving reader keeps it in memory (up to a size),
    with only `columns` (None: all), sorted by `order_by`, so one customer's rows take milliseconds."""

    dataset: str
    columns: tuple[str, ...] | None = None
    order_by: tuple[str, ...] = ("customer_id",)


@dataclass(frozen=True)
class Subject:
    """A customer and what points at them, found before anything is erased (data-subject requests)."""

    customer_id: str
    identifiers: frozenset[str] = frozenset()  # the customer id, identifier hashes, identity values
    devices: frozenset[str] = frozenset()  # device ids: anonymous rows on them are the customer's too
    ref: str = ""  # the keyed pseudonymous reference (lingxi.privacy.tables.subject_ref)
    hash_key: HashKey = ""


StoreExport = Callable[["Engine", Subject], Any]  # the part of the export document; read-only
StoreErase = Callable[["Connection", Subject, datetime], Any]  # the receipt's part; in the erasure's transaction


@dataclass(frozen=True)
class StoreHolding:
    """An operational-store table that holds customer rows, and what a data-subject request does to it.

    - `delete` (the default): its rows are exported under `operational.<table>` and deleted on erasure;
    - `custom`: the capability's own `export` and `eraser` (the consent ledger is pseudonymised, not deleted);
    - `retain`: exported, kept on erasure for the legal reason given in `why` (the audit log).
    A custom or retained holding's export goes in the document under `section`, its eraser's result in the
    receipt under `receipt_key`.
    """

    table: str
    customer_column: str = "customer_id"
    erase: Literal["delete", "custom", "retain"] = "delete"
    why: str = ""
    export: StoreExport | None = None
    eraser: StoreErase | None = None
    section: str = "operational"
    receipt_key: str = "operational"


@dataclass(frozen=True)
class LakeHolding:
    """A lake dataset that holds customer rows: exported, and republished without them on erasure.

    `dataset` is a dataset name, or `*contract*` for every table of the bank data contract.
    """

    dataset: str
    customer_column: str = "customer_id"


@dataclass(frozen=True)
class Capability:
    """Everything the platform must know about a capability; see the module docstring."""

    name: str  # the folder name: `segments`
    description: str
    stages: tuple[Stage, ...] = ()
    permissions: tuple[PermissionGrant, ...] = ()
    audit_actions: tuple[str, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # catalogue key -> language -> text
    tables: tuple[Table, ...] = ()
    migrations: str | None = None  # a plug-in's own Alembic branch: a folder of its package (Lingxi's are central)
    store_holdings: tuple[StoreHolding, ...] = ()
    lake_holdings: tuple[LakeHolding, ...] = ()
    served: tuple[Served, ...] = ()  # datasets the console reads per customer (lingxi.store.serving)
    package: str = ""  # filled in by the registry: the capability's import path


def tables_of(*models: type) -> tuple[Table, ...]:
    """The Table of each ORM class, for `Capability.tables`."""
    found: list[Table] = []
    for model in models:
        table = getattr(model, "__table__", None)
        if table is None:
            raise TypeError(f"{model.__name__} is not an ORM table class")
        found.append(table)
    return tuple(found)
