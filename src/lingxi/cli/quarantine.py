"""`lingxi quarantine list|show`: which loads quarantined rows, why, and the rows themselves.

An operator's tool, run by whoever can read the data directory anyway: `show` prints the offending values
and the input rows as the loader kept them (identifiers the mapping hashes are already cut to their last
two characters in the quarantine). Each `show` is audited (`quarantine_read`, by `cli:<os user>`, with the
table, the filters and the names of the fields shown, never their values). The console's page and the API
show the same rows masked for the reader's role.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from lingxi.auth.audit import Who
from lingxi.cli.context import console, friendly_errors, open_lake, operator, settings
from lingxi.ingest.load import loader_engine
from lingxi.ingest.masked import View
from lingxi.ingest.review import MAX_SAMPLES, LoadReview, audit_read, quarantined_loads, review_load
from lingxi.schema import TABLES

quarantine_app = typer.Typer(help="Read the quarantine: loads with bad rows, their reasons and the rows.")


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine_app, name="quarantine", no_args_is_help=True)


@quarantine_app.command("list")
@friendly_errors
def list_command(
    table: Annotated[str | None, typer.Argument(help=f"Only this table: {', '.join(TABLES)}.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """Loads that quarantined rows, per table, newest first, with their counts by reason."""
    with open_lake() as lake:
        loads = quarantined_loads(lake.store, table)
    if as_json:
        console.print_json(json.dumps([asdict(q) for q in loads], default=str, ensure_ascii=False))
        return
    if not loads:
        console.print("no quarantined rows" + (f" for `{table}`" if table else ""))
        return
    out = RichTable(title="quarantined rows by load (counts as recorded by the load)", title_justify="left")
    for name, justify in [("table", "left"), ("load", "left"), ("status", "left"), ("started", "left")]:
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    out.add_column("rows in", justify="right")
    out.add_column("quarantined", justify="right")
    out.add_column("by reason")
    for q in loads:
        reasons = "; ".join(f"{k} {v:,}" for k, v in sorted(q.reasons.items(), key=lambda kv: -kv[1]))
        out.add_row(
            q.table,
            q.load_id,
            q.status,
            f"{q.started_at:%Y-%m-%d %H:%M}",
            f"{q.rows_in:,}",
            f"{q.rows_quarantined:,}",
            escape(reasons),
        )
    console.print(out)
    console.print("rows of a load: `lingxi quarantine show TABLE --load ID [--reason R]`")


@quarantine_app.command("show")
@friendly_errors
def show_command(
    table: Annotated[str, typer.Argument(help=f"Contract table: {', '.join(TABLES)}.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Only rows with this problem: not_allowed...")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_SAMPLES, help="How many sample rows.")] = 20,
    load: Annotated[str | None, typer.Option("--load", help="Load id (default: the table's latest load).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON, with each row in full.")] = False,
) -> None:
    """A load's quarantine: rows per reason, the most frequent offending values, the mapping lines, sample rows."""
    s = settings()
    with open_lake() as lake:
        engine = loader_engine(memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads)
        try:
            review = review_load(lake, engine, table, View.raw, load_id=load, reason=reason, limit=limit)
        finally:
            engine.close()
        if review.load is not None:
            audit_read(lake.store, Who(operator()), review)
    if as_json:
        console.print_json(json.dumps(_jsonable(review), default=str, ensure_ascii=False))
        return
    _print(review)


def _jsonable(review: LoadReview) -> dict[str, Any]:
    return {
        "table": review.table,
        "load": asdict(review.load) if review.load else None,
        "mapping": review.provenance.mapping,
        "reasons": [asdict(r) for r in review.reasons],
        "reason": review.reason,
        "samples": [asdict(s) for s in review.samples],
    }


def _print(review: LoadReview) -> None:
    if review.load is None:
        console.print(f"no quarantined rows for `{review.table}`")
        return
    q = review.load
    console.print(
        f"load {q.load_id}: {q.table} ← {escape(q.source)} ({q.status}, {q.started_at:%Y-%m-%d %H:%M}); "
        f"{q.rows_quarantined:,} of {q.rows_in:,} rows quarantined",
        soft_wrap=True,
    )
    mapping = review.provenance.mapping
    console.print(f"mapping file: {escape(mapping)}" if mapping else "no mapping file: columns read by their names")
    reasons = RichTable(title="rows in the quarantine by reason", title_justify="left")
    for name in ("field", "reason", "rows", "most frequent values", "mapped by"):
        reasons.add_column(name, justify="right" if name == "rows" else "left")
    for r in review.reasons:
        top = ", ".join(f"{t.value} ×{t.rows:,}" for t in r.top)
        lines = "\n".join(f"{m.section}, line {m.line}: {m.text.strip()}" for m in r.mapping)
        reasons.add_row(r.field, r.code, f"{r.rows:,}", escape(top), escape(lines or "-"))
    console.print(reasons)
    title = "sample rows" + (f" with `{review.reason}`" if review.reason else "")
    samples = RichTable(title=title, title_justify="left")
    for name in ("file:row", "field", "reason", "value", "all problems", "row"):
        samples.add_column(name)
    for smp in review.samples:
        where = f"{smp.file.rsplit('/', 1)[-1]}:{smp.row if smp.row is not None else '?'}"
        row = json.dumps(smp.record, ensure_ascii=False, default=str)
        samples.add_row(
            escape(where), smp.field, smp.reason, escape(smp.value or ""), escape("; ".join(smp.problems)), escape(row)
        )
    console.print(samples)
