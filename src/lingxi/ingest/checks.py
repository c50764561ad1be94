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
import sqlglot
from sqlglot import exp

from lingxi.engine.sql import lit
from lingxi.engine.sql import table as sql_table
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
    "duplicate_key": "key is on an earlier row of the input",
    "key_already_loaded": "key is already in the published dataset",
    "unknown_reference": "refers to a row that is not loaded",
    "missing_identity": "none of the identifying columns is set",
    "malformed_row": "line has the wrong number of fields",
}

SEEN_TABLE = "lx_seen_keys"  # the keys seen so far, with their hash `__h` and `__origin` (loaded, file)
REPEATED_KEYS = "lx_repeated_keys"  # hashes (`h`) that occur more than once in the chunk
KNOWN_KEYS = "lx_known_keys"  # hashes of the chunk that are in SEEN_TABLE
PROBLEMS_SEPARATOR = "; "


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def key_cast(table: Table, name: str, qualifier: str = "") -> str:
    """A key column as its contract type: a code key is an ENUM in `lx_typed` but text in the lake."""
    return f"CAST({qualifier}{ident(name)} AS {table.column(name).sql_type})"


def quoted(name: str, qualifier: str | None = None) -> exp.Column:
    """A column by its (always quoted) name, optionally qualified by a table alias: `t."txn_id"`."""
    return exp.Column(
        this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(qualifier) if qualifier else None
    )


def data_type(sql_type: str) -> exp.DataType:
    """A DuckDB type (`DECIMAL(18,2)`, `ENUM(...)`) as a tree."""
    return exp.DataType.build(sql_type, dialect="duckdb")


def cast_key(table: Table, name: str, qualifier: str | None = None) -> exp.Cast:
    """`key_cast` as a tree."""
    return exp.Cast(this=quoted(name, qualifier), to=data_type(table.column(name).sql_type))


def temp_table(name: str, query: exp.Expr) -> exp.Create:
    """`CREATE OR REPLACE TEMP TABLE name AS query`."""
    return exp.Create(
        this=sql_table(name),
        kind="TABLE",
        replace=True,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def drop_table(name: str) -> exp.Drop:
    """`DROP TABLE IF EXISTS name`."""
    return exp.Drop(tables=[sql_table(name)], kind="TABLE", exists=True)


def call(name: str, *args: exp.Expr) -> exp.Anonymous:
    """A DuckDB function by its name, rendered as written (`hash`, `parquet_metadata`)."""
    return exp.Anonymous(this=name, expressions=list(args))


def read_parquet(paths: list[str] | str, **options: bool) -> exp.Table:
    """`read_parquet(paths, option = value, ...)` as a table of a FROM clause."""
    files = exp.Array(expressions=[lit(p) for p in paths]) if isinstance(paths, list) else lit(paths)
    named = [exp.EQ(this=exp.column(k), expression=exp.true() if v else exp.false()) for k, v in options.items()]
    return exp.Table(this=exp.ReadParquet(expressions=[files, *named]))


def as_tree(sql: exp.Expr | str) -> exp.Expr:
    """A plan's statement or expression as a tree (some are still given as DuckDB SQL text)."""
    if isinstance(sql, str):
        return sqlglot.parse_one(sql, read="duckdb")
    return sql


def ref_table_name(column: Column) -> str:
    assert column.reference is not None
    table, key = column.reference
    return f"lx_ref_{table}_{key}"


@dataclass(frozen=True)
class CheckPlan:
    """The statements that check one chunk.

    `typed_sql` types every column and lists the row's column problems in `__problems`
    (`field: code; ...`, see PROBLEMS_SEPARATOR); its result is kept as `lx_typed`. Problems that need
    other rows or tables are found by `row_problems_sql` as long-format rows `(__row, field, code)`, kept
    as `lx_row_problems`; bad rows are few, so that table stays small. `good` selects the rows of
    `lx_typed` with no problem.

    Keys are checked in two steps (keys.SeenKeys): `key_hashes_sql` gives the hash of every readable key,
    SeenKeys finds which hashes repeat within the chunk (`REPEATED_KEYS`) and, by `known_hashes_sql`,
    which were seen before (`KNOWN_KEYS`); only rows with those hashes have their keys compared here.
    `record_keys_sql` then records the chunk's keys that were not seen before in `SEEN_TABLE`. Where the
    chunk's first key column lies wholly outside the range seen so far (journal numbers usually rise
    through a file), `known_hashes_sql` need not run at all.
    """

    typed_sql: str
    key_hashes_sql: str
    key_range_sql: str  # lowest and highest value of the first key column
    known_hashes_sql: str
    duplicates_sql: str
    known_sql: str
    other_problems_sql: tuple[str, ...]  # references and any-of rules
    new_keys_sql: str
    good: str
    present: tuple[str, ...]  # the contract columns the input has; the others are NULL and not carried
    partition_key: str | None  # an integer per partition (see partition_text), cheaper to sort than text

    def row_problems_sql(self, *, repeated: bool, known: bool) -> str:
        """The cross-row problems of the chunk; key comparisons only where some hash matched.

        A key seen before the chunk gives each of its rows that problem only, not also `duplicate_key`
        for its second row in the chunk: the same rows in smaller chunks would get just the one.
        """
        parts = [*(["SELECT * FROM lx_known"] if known else []), *self.other_problems_sql]
        if repeated:
            parts.append(
                "SELECT * FROM lx_duplicates" + (" WHERE __row NOT IN (SELECT __row FROM lx_known)" if known else "")
            )
        if not parts:
            return "SELECT NULL::BIGINT AS __row, NULL::VARCHAR AS field, NULL::VARCHAR AS code WHERE false"
        ctes = [
            *([f"lx_known(__row, field, code) AS ({self.known_sql})"] if known else []),
            *([f"lx_duplicates(__row, field, code) AS ({self.duplicates_sql})"] if repeated else []),
        ]
        with_ = f"WITH {', '.join(ctes)} " if ctes else ""
        return f"{with_}SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ") p(__row, field, code)"

    def record_keys_sql(self, *, flagged: bool) -> str:
        """Add the chunk's keys to SEEN_TABLE; a row whose key was `flagged` repeats a key recorded already."""
        if not flagged:
            return self.new_keys_sql
        return self.new_keys_sql + " AND t.__row NOT IN (SELECT __row FROM lx_row_problems WHERE field = 'key')"


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


def is_code(column: Column) -> bool:
    """A text column of a few allowed values, typed as a DuckDB ENUM (see `_typed`)."""
    return column.type == "string" and bool(column.allowed) and column.min_value is None


def _typed(column: Column, raw: str, mapping: Mapping) -> str:
    if is_code(column):
        # NULL for a value that is not allowed. An ENUM is one byte per row where text is sixteen: the
        # chunk's table, its sort and the Parquet writer (dictionary pages, no re-hashing) all get cheaper.
        # (through text: a Parquet BINARY or a number would not cast to the ENUM directly)
        return f"TRY_CAST(CAST({raw} AS VARCHAR) AS ENUM({', '.join(literal(v) for v in column.allowed)}))"
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
    whens.append(f"WHEN {typed} IS NULL THEN " + ("'not_allowed'" if is_code(column) else "'bad_type'"))
    if column.allowed and not is_code(column):
        # A cast to an ENUM of the allowed values is NULL for any other value: 3x cheaper than NOT IN.
        values = ", ".join(literal(v) for v in column.allowed)
        whens.append(f"WHEN TRY_CAST(CAST({typed} AS VARCHAR) AS ENUM({values})) IS NULL THEN 'not_allowed'")
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
    key_cols = ", ".join(f"t.{ident(k)}" for k in table.key)
    key_hash = "hash(" + ", ".join(key_cast(table, k, "t.") for k in table.key) + ")"  # as SEEN_TABLE has them
    on_d = " AND ".join(f"d.{ident(k)} = t.{ident(k)}" for k in table.key)
    on_s = " AND ".join(f"s.{ident(k)} = t.{ident(k)}" for k in table.key)
    # Duplicates through an aggregate, not a window: a window would carry (and sort) every column.
    duplicates_sql = (
        f"SELECT t.__row, 'key' AS field, 'duplicate_key' AS code FROM lx_typed t JOIN "
        f"(SELECT {key_cols}, min(__row) AS __first FROM lx_typed t WHERE {key_ok} AND {key_hash} IN "
        f"(SELECT h FROM {REPEATED_KEYS}) GROUP BY {key_cols} HAVING count(*) > 1) d ON {on_d} "
        "WHERE t.__row <> d.__first"
    )
    known_sql = (
        "SELECT t.__row, 'key', CASE s.__origin WHEN 'loaded' THEN 'key_already_loaded' ELSE 'duplicate_key' END "
        f"FROM lx_typed t JOIN (SELECT * FROM {SEEN_TABLE} WHERE __h IN (SELECT h FROM {KNOWN_KEYS})) s ON {on_s} "
        f"WHERE {key_ok}"
    )
    new_keys_sql = f"INSERT INTO {SEEN_TABLE} SELECT {key_cols}, {key_hash}, 'file' FROM lx_typed t WHERE {key_ok}"
    parts = []
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
    good = "__problems IS NULL AND __row NOT IN (SELECT __row FROM lx_row_problems)"
    key_hashes_sql = f"SELECT {key_hash} AS h FROM lx_typed t WHERE {key_ok}"
    first_key = key_cast(table, table.key[0], "t.")
    return CheckPlan(
        typed_sql,
        key_hashes_sql,
        f"SELECT min({first_key}) AS low, max({first_key}) AS high FROM lx_typed t",
        f"SELECT DISTINCT k.h FROM ({key_hashes_sql}) k SEMI JOIN {SEEN_TABLE} s ON s.__h = k.h",
        duplicates_sql,
        known_sql,
        tuple(parts),
        new_keys_sql,
        good,
        tuple(c.name for c in present),
        partition_order_expression(table),
    )
