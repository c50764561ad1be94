"""The validation query: contract checks for one chunk, written as DuckDB SQL.

Each contract column gets a typed value and a problem code (NULL when the value is fine); a row's
column problems are kept as one text, `field: code; field: code`, NULL for a good row (one column
instead of one per contract column: a tenth of the load's time went into writing mostly-NULL columns).
Keys, references and any-of rules add rows to a small table of their own. Codes are stable: they are
what the quarantine and the load report count.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lingxi.ingest.mapping import Mapping
from lingxi.schema.types import Column, Table

# Problem codes, with the explanation the load report prints beside each.
REASONS: dict[str, str] = {
    "missing_required": "required value is empty",
    "bad_type": "value cannot be read as the column's type",
    "not_allowed": "value is not one of the allowed values",
    "bad_format": "value does not match the required format",
    "below_minimum": "value is below the allowed minimum",
    "bad_json": "value is not valid JSON",
    "bad_identifier": "identifier failed normalisation (phone or ID-card check)",
    "duplicate_key": "key appears more than once in the input (first kept)",
    "key_already_loaded": "key is already in the published dataset",
    "unknown_reference": "refers to a row that is not loaded",
    "missing_identity": "none of the identifying columns is set",
    "malformed_row": "line has the wrong number of fields",
}

SEEN_TABLE = "lx_seen_keys"
PROBLEMS_SEPARATOR = "; "


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ref_table_name(column: Column) -> str:
    assert column.reference is not None
    table, key = column.reference
    return f"lx_ref_{table}_{key}"


@dataclass(frozen=True)
class CheckPlan:
    """The statements that check one chunk.

    `typed_sql` types every column and lists the row's column problems in `__problems`
    (`field: code; ...`, see PROBLEMS_SEPARATOR); its result is kept as `lx_typed`. `row_problems_sql`
    finds the problems that need other rows or tables (duplicate keys, references, any-of rules) as
    long-format rows `(__row, field, code)`, kept as `lx_row_problems`; bad rows are few, so that
    table stays small. `good` selects the rows of `lx_typed` with no problem.
    """

    typed_sql: str
    row_problems_sql: str
    good: str
    present: tuple[str, ...]  # the contract columns the input has; the others are NULL and not carried
    partition_key: str | None  # an integer per partition (see partition_text), cheaper to sort than text


def _raw(column: Column, source_types: dict[str, pa.DataType], mapping: Mapping) -> str:
    if column.name not in source_types:
        return "NULL"
    expr = ident(column.name)
    if pa.types.is_string(source_types[column.name]) or pa.types.is_large_string(source_types[column.name]):
        # TRIM copies every string; most values have no padding, so trim only those that do (2x faster)
        expr = f"NULLIF(CASE WHEN {expr} LIKE ' %' OR {expr} LIKE '% ' THEN TRIM({expr}) ELSE {expr} END, '')"
    codes = mapping.values.get(column.name)
    if codes:
        whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in codes.items())
        expr = f"(CASE CAST({expr} AS VARCHAR) {whens} ELSE CAST({expr} AS VARCHAR) END)"
    return expr


def _typed(column: Column, raw: str, mapping: Mapping) -> str:
    fmt = mapping.source_of(column.name).format
    if fmt and column.type in ("date", "timestamp"):
        parsed = f"TRY_STRPTIME(CAST({raw} AS VARCHAR), {literal(fmt)})"
        return f"CAST({parsed} AS DATE)" if column.type == "date" else parsed
    if column.type in ("string", "json"):
        return f"CAST({raw} AS VARCHAR)"
    return f"TRY_CAST({raw} AS {column.sql_type})"


def _column_problem(column: Column, raw: str, typed: str, transformed: bool) -> str:
    whens = []
    if transformed:  # the hash of an identifier that failed normalisation is NULL: say why first
        whens.append(f"WHEN {ident('__invalid_' + column.name)} THEN 'bad_identifier'")
    whens.append(f"WHEN {raw} IS NULL THEN " + ("'missing_required'" if column.required else "NULL"))
    whens.append(f"WHEN {typed} IS NULL THEN 'bad_type'")
    if column.allowed:
        values = ", ".join(literal(v) for v in column.allowed)
        whens.append(f"WHEN CAST({typed} AS VARCHAR) NOT IN ({values}) THEN 'not_allowed'")
    if column.pattern:
        whens.append(f"WHEN NOT regexp_full_match({typed}, {literal(column.pattern)}) THEN 'bad_format'")
    if column.min_value is not None:
        whens.append(f"WHEN {typed} < {column.min_value!r} THEN 'below_minimum'")
    if column.type == "json":
        whens.append(f"WHEN NOT json_valid({typed}) THEN 'bad_json'")
    return "CASE " + " ".join(whens) + " END"


def partition_expression(table: Table) -> str | None:
    if table.partition is None:
        return None
    source = ident(table.partition.source)
    formats = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    if table.partition.grain == "value":
        return f"CAST({source} AS VARCHAR)"
    return f"strftime({source}, {literal(formats[table.partition.grain])})"


def partition_order_expression(table: Table) -> str | None:
    """An integer sort key that keeps each partition's rows together (2x cheaper than text or date_trunc)."""
    if table.partition is None:
        return None
    if table.partition.grain == "value":
        return partition_expression(table)
    source = ident(table.partition.source)
    year, month, day = (f"{part}({source})" for part in ("year", "month", "day"))
    return {"year": year, "month": f"({year} * 100 + {month})", "day": f"({year} * 10000 + {month} * 100 + {day})"}[
        table.partition.grain
    ]


def partition_text(table: Table, key: object) -> str | None:
    """The partition folder value of a `partition_order_expression` key: 202611 -> `2026-11`."""
    if key is None or table.partition is None or table.partition.grain == "value":
        return None if key is None else str(key)
    digits = f"{int(str(key)):08d}" if table.partition.grain == "day" else str(key)
    if table.partition.grain == "year":
        return digits
    if table.partition.grain == "month":
        return f"{digits[:4]}-{digits[4:6]}"
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"


def build_check_plan(
    table: Table,
    mapping: Mapping,
    source_types: dict[str, pa.DataType],
    *,
    references: list[Column],
    check_seen: bool,
    chunk: str = "lx_chunk",
) -> CheckPlan:
    """The statements that type and check every row of `chunk` against `table`."""
    transformed = {name for name in table.column_names if mapping.source_of(name).transform}
    present = [c for c in table.columns if c.name in source_types]
    # Three layers so each value is trimmed and cast once: raw text, typed value, problem code.
    raws, typed_cols, problems = [], [], []
    for column in present:
        raw_name = ident("__r_" + column.name)
        raws.append(f"{_raw(column, source_types, mapping)} AS {raw_name}")
        typed_cols.append(f"{_typed(column, raw_name, mapping)} AS {ident(column.name)}")
        problem = _column_problem(column, raw_name, ident(column.name), column.name in transformed)
        problems.append(f"{literal(column.name + ': ')} || ({problem})")
    passthrough = "".join(f", {ident('__invalid_' + n)}" for n in sorted(transformed) if n in source_types)
    layer0 = f"SELECT __row{passthrough}, {', '.join(raws)} FROM {chunk}"
    layer1 = f"SELECT *, {', '.join(typed_cols)} FROM ({layer0})"
    columns = ", ".join(ident(c.name) for c in present)
    listed = f"NULLIF(concat_ws({literal(PROBLEMS_SEPARATOR)}, {', '.join(problems)}), '') AS __problems"
    typed_sql = f"SELECT __row, {columns}, {listed} FROM ({layer1})"

    # A key or reference that could not be read is NULL here, and already a column problem.
    key_ok = " AND ".join(f"t.{ident(k)} IS NOT NULL" for k in table.key)
    key_cols = ", ".join(ident(k) for k in table.key)
    on_d = " AND ".join(f"d.{ident(k)} = t.{ident(k)}" for k in table.key)
    # Duplicates through an aggregate, not a window: a window would carry (and sort) every column. The
    # keys' 64-bit hashes are grouped first (a third cheaper than grouping text); only rows whose hash
    # repeats, which is rare, are grouped by the keys themselves, so a hash collision is never a duplicate.
    repeated = f"SELECT hash({key_cols}) AS h FROM lx_typed t WHERE {key_ok} GROUP BY h HAVING count(*) > 1"
    parts = [
        f"SELECT t.__row, 'key' AS field, 'duplicate_key' AS code FROM lx_typed t JOIN "
        f"(SELECT {key_cols}, min(__row) AS __first FROM lx_typed t WHERE {key_ok} AND hash({key_cols}) IN "
        f"({repeated}) GROUP BY {key_cols} HAVING count(*) > 1) d ON {on_d} WHERE t.__row <> d.__first"
    ]
    if check_seen:
        on_s = " AND ".join(f"s.{ident(k)} = t.{ident(k)}" for k in table.key)
        parts.append(
            "SELECT t.__row, 'key', CASE s.__origin WHEN 'loaded' THEN 'key_already_loaded' "
            f"ELSE 'duplicate_key' END FROM lx_typed t JOIN {SEEN_TABLE} s ON {on_s} WHERE {key_ok}"
        )
    for column in references:
        _, ref_key = column.reference or ("", "")
        col = ident(column.name)
        parts.append(
            f"SELECT t.__row, {literal(column.name)}, 'unknown_reference' FROM lx_typed t "
            f"ANTI JOIN {ref_table_name(column)} r ON r.{ident(ref_key)} = t.{col} "
            f"WHERE t.{col} IS NOT NULL"
        )
    for group in table.any_of:
        none_set = " AND ".join(f"{ident(c)} IS NULL" for c in group if c in source_types) or "true"
        parts.append(f"SELECT __row, {literal('|'.join(group))}, 'missing_identity' FROM lx_typed WHERE {none_set}")
    row_problems_sql = "SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ")"
    good = "__problems IS NULL AND __row NOT IN (SELECT __row FROM lx_row_problems)"
    return CheckPlan(
        typed_sql,
        row_problems_sql,
        good,
        tuple(c.name for c in present),
        partition_order_expression(table),
    )
