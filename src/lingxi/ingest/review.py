"""Reading the quarantine back: loads with quarantined rows, counts and top offending values per reason,
sample rows, and the mapping line behind each column.

What the loads recorded (`lx_load`: counts by reason at load time) lists them cheaply; what a load's
quarantine holds now is read from its Parquet files with one DuckDB group-by (the files are rewritten when
a customer is erased, so nothing here outlives an erasure: top values and samples are never stored, they
are computed from the files each time). Values are shown through a `masked.View`, the reader's.

The offending value of a problem is the input value of its field: the column's value for a column problem,
the key columns' values for `duplicate_key` and `key_already_loaded`, the line for `malformed_row`, none
for `missing_identity`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as StoreEngine
from sqlalchemy import select
from sqlglot import exp

from lingxi.auth import audit
from lingxi.auth.audit import Who
from lingxi.auth.scope import Principal
from lingxi.engine.base import Engine
from lingxi.engine.sql import asc, col, desc, lit, param
from lingxi.errors import InputError, LingxiError, NotFound
from lingxi.ingest.checks import PROBLEMS_SEPARATOR, REASONS, call, read_parquet
from lingxi.ingest.masked import WITHHELD, View
from lingxi.ingest.provenance import MappingLine, Provenance, read_provenance, write_provenance
from lingxi.schema.contract import LOAD_ORDER, get_table
from lingxi.schema.types import Table
from lingxi.store.lake import QUARANTINE, Lake
from lingxi.store.tables import Load

#: The permission to read the quarantine in the console and the API, and the audit action of every read.
QUARANTINE_PERMISSION = "ingest:quarantine"
QUARANTINE_READ = "quarantine_read"
TOP_VALUES = 3  # offending values shown per reason
VALUE_WIDTH = 40  # a longer value is cut, with an ellipsis
MAX_SAMPLES = 500
LOAD_ID = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")


@dataclass(frozen=True)
class QuarantinedLoad:
    """A load that quarantined rows, as `lx_load` recorded it (counts by `field: code` at load time)."""

    load_id: str
    table: str
    status: str
    source: str
    started_at: datetime
    rows_in: int
    rows_quarantined: int
    reasons: dict[str, int]


@dataclass(frozen=True)
class TopValue:
    value: str | None  # as the reader may see it (masked, or WITHHELD)
    rows: int


@dataclass(frozen=True)
class ReasonReview:
    """One `field: code` of a load's quarantine: rows now in it, the most frequent values, the mapping lines."""

    field: str
    code: str
    meaning: str
    rows: int
    top: list[TopValue]
    mapping: list[MappingLine]

    @property
    def key(self) -> str:
        return f"{self.field}: {self.code}"


@dataclass(frozen=True)
class Sample:
    """One quarantined row: where it was, its problems, the offending value and the row, as the reader sees them."""

    file: str
    row: int | None
    field: str
    reason: str
    value: str | None
    problems: list[str]
    record: dict[str, Any]


@dataclass(frozen=True)
class LoadReview:
    """A load's quarantine for one reader; `load` is None when the table has no quarantined rows."""

    table: str
    load: QuarantinedLoad | None
    reasons: list[ReasonReview] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)
    reason: str | None = None  # the filter applied to the samples
    personal_shown: list[str] = field(default_factory=list)  # personal fields the samples show unmasked (names)


def quarantine_folder(lake: Lake, table: str, load_id: str) -> Path:
    """`<lake>/_quarantine/<table>/<load id>` (not created: reading must not leave folders behind)."""
    return lake.root / QUARANTINE / table / load_id


def quarantined_loads(store: StoreEngine, table: str | None = None) -> list[QuarantinedLoad]:
    """Loads that quarantined rows, per table in load order, newest first."""
    query = select(Load).where(Load.rows_quarantined > 0)
    if table is not None:
        query = query.where(Load.dataset == get_table(table).name)
    with store.connect() as conn:
        rows = conn.execute(query.order_by(Load.started_at.desc(), Load.id.desc())).all()
    order = {name: i for i, name in enumerate(LOAD_ORDER)}
    loads = [
        QuarantinedLoad(
            r.id, r.dataset, r.status, r.source, r.started_at, r.rows_in or 0, r.rows_quarantined or 0, dict(r.reasons)
        )
        for r in rows
    ]
    return sorted(loads, key=lambda q: order.get(q.table, len(order)))  # stable: newest first within a table


def check_reason(reason: str | None) -> str | None:
    """A reason code as given, or an InputError naming the known codes (and the nearest one)."""
    if reason is None or reason in REASONS:
        return reason
    near = difflib.get_close_matches(reason, list(REASONS), n=1)
    hint = f"did you mean `{near[0]}`? " if near else ""
    raise InputError(f"unknown quarantine reason `{reason[:64]}`", hint=hint + "reasons: " + ", ".join(REASONS))


def review_load(
    lake: Lake,
    engine: Engine,
    table_name: str,
    view_of: Callable[[Table], View],
    *,
    load_id: str | None = None,
    reason: str | None = None,
    limit: int = 20,
) -> LoadReview:
    """The quarantine of one load of `table_name` (default: its latest load that quarantined rows).

    `view_of(table)` gives the reader's View (`View.raw`, or a principal's). `reason` keeps the samples
    that have that problem (anywhere in their problems, not only the first); `limit` caps them.
    """
    table = get_table(table_name)
    reason = check_reason(reason)
    if not 1 <= limit <= MAX_SAMPLES:
        raise InputError(f"`limit` is {limit}", hint=f"ask for 1 to {MAX_SAMPLES} sample rows")
    loads = quarantined_loads(lake.store, table.name)
    if load_id is not None:
        chosen = next((q for q in loads if q.load_id == load_id), None) if LOAD_ID.match(load_id) else None
        if chosen is None:
            raise NotFound(
                f"no load `{load_id[:64]}` of `{table.name}` with quarantined rows",
                hint=f"`lingxi quarantine list` shows them; latest: {loads[0].load_id if loads else 'none'}",
            )
    else:
        chosen = loads[0] if loads else None
    if chosen is None:
        return LoadReview(table.name, None, reason=reason)
    view = view_of(table)
    folder = quarantine_folder(lake, table.name, chosen.load_id)
    provenance = read_provenance(folder)
    grouped = top_values(engine, folder, table, view)
    reasons = [
        ReasonReview(f, c, REASONS.get(c, ""), rows, top, provenance.lines_for(field_columns(table, f)))
        for (f, c), (rows, top) in grouped.items()
    ]
    samples = sample_rows(engine, folder, view, reason=reason, limit=limit)
    personal = view.sensitive_shown(sorted({name for s in samples for name in s.record}))
    return LoadReview(table.name, chosen, reasons, samples, provenance, reason, personal)


def review_for(
    lake: Lake,
    engine: Engine,
    principal: Principal,
    table: str,
    *,
    load_id: str | None = None,
    reason: str | None = None,
    limit: int = 20,
) -> LoadReview:
    """`review_load` for a console or API reader: masked for their role, and audited when rows are shown.

    The entry (`quarantine_read`) names the table, the load, the filter and the personal fields shown
    unmasked, never a value. Counts alone (`quarantined_loads`) hold no customer data and are not audited.
    """
    principal.require(QUARANTINE_PERMISSION)
    review = review_load(
        lake,
        engine,
        table,
        lambda t: View.for_principal(t, principal),
        load_id=load_id,
        reason=reason,
        limit=limit,
    )
    if review.load is not None:
        audit_read(lake.store, Who.of(principal), review)
    return review


def audit_read(store: StoreEngine, who: Who, review: LoadReview) -> None:
    """Record that `who` read sample rows of a load's quarantine."""
    assert review.load is not None
    detail = json.dumps({"load": review.load.load_id, "reason": review.reason, "rows": len(review.samples)})
    audit.record(store, QUARANTINE_READ, who, target=review.table, fields=review.personal_shown, detail=detail)


def field_columns(table: Table, name: str) -> list[str]:
    """The contract columns a problem's field stands for: the key's for `key`, each of `a|b`, none for `row`."""
    if name == "key":
        return list(table.key)
    return [n for n in name.split("|") if n in table.column_names]


# --- queries over a load's quarantine files --------------------------------------------------------------------


def _files(folder: Path) -> list[str] | None:
    return [str(folder / "*.parquet")] if any(folder.glob("*.parquet")) else None


def _json_text(name: str) -> exp.Expr:
    """The input value of `name` in the `raw` JSON, as text."""
    return exp.JSONExtractScalar(this=col("raw"), expression=lit(f'$."{name}"'))


def _offending_value(table: Table) -> exp.Case:
    """The offending value of the problem in `field`, as text (the key's parts as a JSON array)."""
    ifs = [exp.If(this=lit(c), true=_json_text(c)) for c in table.column_names]
    key_parts = exp.cast(call("json_array", *(_json_text(k) for k in table.key)), exp.DataType.Type.VARCHAR)
    ifs += [exp.If(this=lit("key"), true=key_parts), exp.If(this=lit("row"), true=_json_text("line"))]
    return exp.Case(this=col("field"), ifs=ifs)


def top_values(
    engine: Engine, folder: Path, table: Table, view: View, *, per_reason: int = TOP_VALUES
) -> dict[tuple[str, str], tuple[int, list[TopValue]]]:
    """(field, code) -> (rows with that problem, its most frequent offending values as `view` shows them).

    Every problem of a row counts (a row with two problems counts under both), as in the load report.
    Most rows first; values that cannot be shown at all (WITHHELD) and empty values are left out of `top`.
    """
    files = _files(folder)
    if files is None:
        return {}
    problems = call("unnest", call("string_split", col("problems"), lit(PROBLEMS_SEPARATOR))).as_("problem")
    unnested = exp.select(col("raw"), problems).from_(read_parquet(files, union_by_name=True))
    split = exp.select(
        col("raw"),
        exp.SplitPart(this=col("problem"), delimiter=lit(": "), part_index=lit(1)).as_("field"),
        exp.RegexpExtract(this=col("problem"), expression=lit(": ([a-z][a-z0-9_]*)"), group=lit(1)).as_("code"),
    ).from_(unnested.subquery("u"))
    counted = (
        exp.select(col("field"), col("code"), _offending_value(table).as_("value"), exp.Count(this=exp.Star()).as_("n"))
        .from_(split.subquery("s"))
        .group_by(col("field"), col("code"), col("value"))
    )
    by_reason = [col("field"), col("code")]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=by_reason,
        order=exp.Order(expressions=[asc(col("value").is_(exp.null())), desc(col("n")), asc(col("value"))]),
    )
    total = exp.Window(this=exp.Sum(this=col("n")), partition_by=[c.copy() for c in by_reason])
    query = (
        exp.select(col("field"), col("code"), col("value"), col("n"), total.as_("total"))
        .from_(counted.subquery("c"))
        .qualify(rank <= lit(per_reason))
        .order_by(desc(col("total")), asc(col("field")), asc(col("code")), desc(col("n")))
    )
    found: dict[tuple[str, str], tuple[int, list[TopValue]]] = {}
    for item in engine.run(query, label="quarantine by reason").to_pylist():
        key = (str(item["field"]), str(item["code"]))
        rows, top = found.setdefault(key, (int(item["total"]), []))
        shown = offending(view, key[0], item["value"])
        if shown not in (None, "", WITHHELD):
            top.append(TopValue(shown, int(item["n"])))
    return found


def summarise_quarantine(
    engine: Engine, folder: Path, table: Table, mapping_path: Path | None
) -> tuple[dict[str, list[tuple[str, int]]], str | None]:
    """After a load: record the mapping's lines beside its quarantine, and the report's top offending values per
    `field: code` (personal values masked by the contract).

    The load is done when this runs, so a failure here does not undo it: it comes back as a note for the
    load's record (`lx_load.message`), with no top values.
    """
    try:
        write_provenance(folder, mapping_path, table.column_names)
        found = top_values(engine, folder, table, View.by_contract(table))
    except (LingxiError, OSError) as e:
        return {}, f"the quarantine's summary was not written: {e}"
    return {f"{f}: {c}": [(str(t.value), t.rows) for t in top] for (f, c), (_, top) in found.items() if top}, None


def offending(view: View, name: str, value: str | None) -> str | None:
    """An offending value of field `name` as `view` shows it, cut to VALUE_WIDTH characters."""
    if value is None:
        return None
    if name == "key":
        parts = json.loads(value)
        shown = " | ".join(str(view.value(k, p)) for k, p in zip(view.table.key, parts, strict=True))
    elif name == "row":
        shown = value if view.mode == "raw" else WITHHELD
    else:
        shown = view.value(name, value) or ""
    return shown if len(shown) <= VALUE_WIDTH else shown[: VALUE_WIDTH - 1] + "…"


def sample_rows(engine: Engine, folder: Path, view: View, *, reason: str | None, limit: int) -> list[Sample]:
    """Up to `limit` quarantined rows in file order, those with problem `reason` only when it is given."""
    files = _files(folder)
    if files is None:
        return []
    columns = [col(c) for c in ("file", "row", "reason", "field", "problems", "raw")]
    query = exp.select(*columns).from_(read_parquet(files, union_by_name=True))
    params: list[Any] = []
    if reason is not None:
        query = query.where(exp.RegexpLike(this=col("problems"), expression=param()))
        params.append(f"(^|; )[^;]*: {reason}( |;|$)")
    query = query.order_by(asc(col("file")), asc(col("row"))).limit(lit(limit))
    samples = []
    for item in engine.run(query, label="quarantined rows", params=params).to_pylist():
        problems = str(item["problems"]).split(PROBLEMS_SEPARATOR)
        first = next((p for p in problems if reason is None or _code(p) == reason), problems[0])
        name = first.split(": ", 1)[0]
        raw = json.loads(item["raw"]) if item["raw"] else {}
        samples.append(
            Sample(
                file=str(item["file"]),
                row=item["row"],
                field=name,
                reason=_code(first),
                value=offending(view, name, _raw_value(view.table, name, raw)),
                problems=problems,
                record=view.record(raw),
            )
        )
    return samples


def _code(problem: str) -> str:
    """`amount: bad_type` -> `bad_type`; `row: malformed_row (expected 7 fields)` -> `malformed_row`."""
    return problem.split(": ", 1)[-1].split(" ", 1)[0]


def _raw_value(table: Table, name: str, raw: dict[str, Any]) -> str | None:
    """The offending value of field `name` in a row read from the `raw` JSON, in the form the query gives."""
    if name == "key":
        parts = [raw.get(k) for k in table.key]
        return json.dumps([None if p is None else str(p) for p in parts], ensure_ascii=False)
    value = raw.get("line" if name == "row" else name)
    return None if value is None else str(value)
