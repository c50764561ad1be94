"""Reading the lake for request handlers: one DuckDB engine per app, one cursor per thread, fresh views.

DuckDB connections must not be shared between threads, and the API serves requests from a thread pool.
`LakeReader` keeps one in-memory DuckDB database whose views point at the lake's published snapshots,
and gives each thread its own cursor on it (a cursor is a second connection to the same database, so it
sees the same views). The views are re-registered when a new snapshot is published: the reader checks
the pointers at most every `refresh_every` seconds, so a request costs no store round-trip most of the time
and a new snapshot is visible within that delay (readers never see half a snapshot: see lingxi.store.lake).

Serving copies: reading Parquet costs 6–25 ms per query even for one customer (file listing, footers,
row groups of ~120k rows that pruning cannot skip), and a 360 page runs seven queries. Datasets up to
`serve_rows` rows are therefore copied into DuckDB memory when their snapshot is published, sorted by
customer, with only the columns the console reads (each capability declares them: `Capability.served`),
which brings a 360 down to a few milliseconds per query (benchmarks/api.py). Larger datasets stay Parquet
views, so memory stays bounded.

The reader is one of the two documented DuckDB-only parts (with the loader): serving point reads to the
console needs an embedded engine with per-thread cursors, whatever the analytic engine (`LINGXI_ENGINE`)
is, so it builds its own DuckDB engine from plain parameters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from lingxi import registry
from lingxi.capability import Served
from lingxi.engine import Engine, create_engine
from lingxi.errors import EngineError
from lingxi.store import Lake, Snapshot

#: How many rendered queries a reader keeps (the builders keep one tree per scope and query).
RENDERED_KEPT = 1024


class LakeReader:
    """Thread-safe reads of the lake's published datasets through DuckDB."""

    def __init__(
        self,
        lake: Lake,
        engine: Engine | None = None,
        *,
        memory_limit: str | None = "1GB",
        threads: int | None = None,
        refresh_every: float = 2.0,
        serve_rows: int = 5_000_000,
        served: Mapping[str, Served] | None = None,
    ) -> None:
        self.lake = lake
        self.engine = engine or create_engine("duckdb", memory_limit=memory_limit, threads=threads)
        self.refresh_every = refresh_every
        self.serve_rows = serve_rows
        self.served = dict(registry.served() if served is None else served)  # what capabilities declare
        self._lock = threading.Lock()
        self._local = threading.local()
        self._checked_at = float("-inf")
        self._snapshots: dict[str, Snapshot] = {}
        self._generation = 0
        self._rendered: dict[int, tuple[exp.Expr, str]] = {}

    @property
    def snapshots(self) -> dict[str, Snapshot]:
        """The snapshots the views currently read, by dataset (refreshed first if due)."""
        self.refresh()
        return dict(self._snapshots)

    @property
    def generation(self) -> int:
        """Grows each time the views change: a cache key for results computed from them."""
        self.refresh()
        return self._generation

    def has(self, dataset: str) -> bool:
        """Whether `dataset` has a published snapshot (a bank may not send events, for instance)."""
        self.refresh()
        return dataset in self._snapshots

    def refresh(self, *, force: bool = False) -> None:
        """Point the views at the latest published snapshots when the check is due (or `force`)."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_every:
            return
        with self._lock:
            if not force and now - self._checked_at < self.refresh_every:
                return
            current = {s.dataset: s for s in self.lake.snapshots()}
            changed = [name for name, s in current.items() if self._snapshots.get(name) != s]
            if changed:
                self.lake.register(self.engine, changed)
                for name in changed:
                    self._serve_from_memory(current[name])
                self._snapshots = current
                self._generation += 1
            self._checked_at = time.monotonic()

    def _serve_from_memory(self, snap: Snapshot) -> None:
        """Replace the Parquet view of a small enough dataset by an in-memory copy sorted by customer."""
        wanted = self.served.get(snap.dataset)
        if wanted is None or snap.row_count > self.serve_rows:
            return
        columns = [exp.Star()] if wanted.columns is None else [exp.column(c, quoted=True) for c in wanted.columns]
        copy = exp.select(*columns).from_(exp.to_identifier(snap.dataset, quoted=True))
        if wanted.order_by:
            copy = copy.order_by(*(exp.column(c, quoted=True) for c in wanted.order_by))
        table = exp.to_identifier(f"lx_serving_{snap.dataset}", quoted=True)
        label = f"serving copy of {snap.dataset}"
        self.engine.execute(exp.Create(this=table, kind="TABLE", expression=copy, replace=True), label=label)
        view = exp.select(exp.Star()).from_(table.copy())
        name = exp.to_identifier(snap.dataset, quoted=True)
        self.engine.execute(exp.Create(this=name, kind="VIEW", expression=view, replace=True), label=label)

    def _cursor(self) -> Any:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._lock:  # creating a cursor touches the parent connection
                cursor = self.engine.cursor()
            self._local.cursor = cursor
        return cursor

    def rows(self, query: exp.Expr | str, params: Sequence[Any] = (), *, label: str) -> list[dict[str, Any]]:
        """Run a parameterised query on this thread's cursor; each row as a dict of column to value.

        A sqlglot tree is rendered in DuckDB's dialect; its `?` placeholders take `params` in order.
        """
        sql = query if isinstance(query, str) else self._render(query)
        self.refresh()
        cursor = self._cursor()
        try:
            result = cursor.execute(sql, list(params))
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        except Exception as e:  # duckdb's error types are the engine's business; keep the SQL
            raise EngineError(f"duckdb failed while reading {label}:\n{sql}\n\n{e}") from e

    def _render(self, query: exp.Expr) -> str:
        """DuckDB SQL of a tree, kept for the trees the query builders keep (they are built once per scope)."""
        hit = self._rendered.get(id(query))
        if hit is not None and hit[0] is query:
            return hit[1]
        sql = query.sql(dialect="duckdb")
        if len(self._rendered) >= RENDERED_KEPT:
            self._rendered.clear()
        self._rendered[id(query)] = (query, sql)  # holding the tree keeps its id from being reused
        return sql

    def close(self) -> None:
        self.engine.close()
