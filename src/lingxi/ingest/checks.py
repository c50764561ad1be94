"""The validation query: contract checks for one chunk, built as sqlglot trees of DuckDB SQL.

Each contract column gets a typed value and a problem code (NULL when the value is fine); a row's
column problems are kept as one text, `field: code; field: code`, NULL for a good row (one column
instead of one per contract column: a tenth of the load's time went into writing mostly-NULL columns).
Keys, references and any-of rules add rows to a small table of their own. Codes are stable: they are
what the quarantine and the load report count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pyarrow as pa
from sqlglot import exp

from lingxi.engine.sql import col, lit
from lingxi.engine.sql import table as sql_table
from lingxi.ingest.helpers import pivot_parse
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
    "above_maximum": "value is above the plausible maximum (a unit or decimal-point error?)",
    "after_as_of": "date or time is after the load's as-of date (plus the tolerance for times)",
    "implausible_age": "birth date makes the person older than the plausible maximum age",
    "bad_check_digit": "ID number's check digit (GB 11643) does not match",
    "lookup_not_found": "no row of the lookup table has this key",
    "lookup_ambiguous": "several rows of the lookup table have this key and the mapping picks none",
}

#: Prefix of the column a mapping stage adds beside a derived column: its problem code, NULL when fine.
PROBLEM_PREFIX = "__problem_"
SEEN_TABLE = "lx_seen_keys"  # the keys seen so far, with their hash `__h` and `__origin` (loaded, file)
REPEATED_KEYS = "lx_repeated_keys"  # hashes (`h`) that occur more than once in the chunk
KNOWN_KEYS = "lx_known_keys"  # hashes of the chunk that are in SEEN_TABLE
PROBLEMS_SEPARATOR = "; "


def quoted(name: str, qualifier: str | None = None) -> exp.Column:
    """A column by its (always quoted) name, optionally qualified by a table alias: `t."txn_id"`."""
    return exp.Column(
        this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(qualifier) if qualifier else None
    )


def data_type(sql_type: str) -> exp.DataType:
    """A DuckDB type (`DECIMAL(18,2)`, `UBIGINT`) as a tree."""
    return exp.DataType.build(sql_type, dialect="duckdb")


def cast_key(table: Table, name: str, qualifier: str | None = None) -> exp.Cast:
    """A key column as its contract type: a code key is an ENUM in `lx_typed` but text in the lake."""
    return exp.Cast(this=quoted(name, qualifier), to=data_type(table.column(name).sql_type))


def varchar(expression: exp.Expr) -> exp.Cast:
    """`CAST(expression AS VARCHAR)`."""
    return exp.Cast(this=expression, to=exp.DataType.build(exp.DataType.Type.VARCHAR))


def enum(values: tuple[str, ...] | list[str]) -> exp.DataType:
    """DuckDB's `ENUM('a', 'b', ...)` type."""
    return exp.DataType(this=exp.DataType.Type.ENUM, expressions=[lit(v) for v in values])


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


def in_query(expression: exp.Expr, column: str, name: str) -> exp.In:
    """`expression IN (SELECT column FROM name)`."""
    return expression.isin(query=exp.select(column).from_(sql_table(name)))


def ref_table_name(column: Column) -> str:
    assert column.reference is not None
    table, key = column.reference
    return f"lx_ref_{table}_{key}"


def _named(name: str, query: exp.Query) -> exp.CTE:
    """`name(__row, field, code) AS (query)`: a step of the row problems."""
    columns = [exp.to_identifier(c) for c in ("__row", "field", "code")]
    return exp.CTE(this=query, alias=exp.TableAlias(this=exp.to_identifier(name), columns=columns))


@dataclass(frozen=True)
class CheckPlan:
    """The statements that check one chunk, as sqlglot trees.

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

    typed_sql: exp.Select
    key_hashes_sql: exp.Select
    key_range_sql: exp.Select  # lowest and highest value of the first key column
    known_hashes_sql: exp.Select
    duplicates_sql: exp.Select
    known_sql: exp.Select
    other_problems_sql: tuple[exp.Select, ...]  # references and any-of rules
    new_keys_sql: exp.Select  # the chunk's readable keys with their hash, as SEEN_TABLE has them
    good: exp.Expr
    present: tuple[str, ...]  # the contract columns the input has; the others are NULL and not carried
    partition_key: exp.Expr | None  # an integer per partition (see partition_text), cheaper to sort than text

    def row_problems_sql(self, *, repeated: bool, known: bool) -> exp.Select:
        """The cross-row problems of the chunk; key comparisons only where some hash matched.

        A key seen before the chunk gives each of its rows that problem only, not also `duplicate_key`
        for its second row in the chunk: the same rows in smaller chunks would get just the one.
        """
        parts: list[exp.Select] = [
            *([exp.select("*").from_(sql_table("lx_known"))] if known else []),
            *(p.copy() for p in self.other_problems_sql),
        ]
        if repeated:
            duplicates = exp.select("*").from_(sql_table("lx_duplicates"))
            if known:
                duplicates = duplicates.where(in_query(col("__row"), "__row", "lx_known").not_())
            parts.append(duplicates)
        if not parts:
            nothing = [
                exp.cast(exp.null(), exp.DataType.Type.BIGINT).as_("__row"),
                exp.cast(exp.null(), exp.DataType.Type.VARCHAR).as_("field"),
                exp.cast(exp.null(), exp.DataType.Type.VARCHAR).as_("code"),
            ]
            return exp.select(*nothing).where(exp.false())
        union: exp.Query = exp.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
        alias = exp.TableAlias(
            this=exp.to_identifier("p"), columns=[exp.to_identifier(c) for c in ("__row", "field", "code")]
        )
        query = exp.select("*").distinct().from_(exp.Subquery(this=union, alias=alias))
        ctes = [
            *([_named("lx_known", self.known_sql.copy())] if known else []),
            *([_named("lx_duplicates", self.duplicates_sql.copy())] if repeated else []),
        ]
        if ctes:
            query.set("with_", exp.With(expressions=ctes))
        return query

    def record_keys_sql(self, *, flagged: bool) -> exp.Insert:
        """Add the chunk's keys to SEEN_TABLE; a row whose key was `flagged` repeats a key recorded already."""
        keys = self.new_keys_sql.copy()
        if flagged:
            flagged_rows = exp.select("__row").from_(sql_table("lx_row_problems")).where(col("field").eq(lit("key")))
            keys = keys.where(col("__row", "t").isin(query=flagged_rows).not_())
        return exp.insert(keys, SEEN_TABLE)


def _raw(column: Column, source_types: dict[str, pa.DataType], mapping: Mapping) -> exp.Expr:
    if column.name not in source_types:
        return exp.null()
    expr: exp.Expr = quoted(column.name)
    if pa.types.is_string(source_types[column.name]) or pa.types.is_large_string(source_types[column.name]):
        # TRIM copies every string; most values have no padding, so trim only those that do (2x faster)
        padded = exp.or_(expr.copy().like(lit(" %")), expr.copy().like(lit("% ")))
        trimmed = exp.Case(ifs=[exp.If(this=padded, true=exp.Trim(this=expr.copy()))], default=expr.copy())
        expr = exp.Nullif(this=trimmed, expression=lit(""))
    codes = mapping.values.get(column.name)
    if codes:
        whens = [exp.If(this=lit(k), true=lit(v)) for k, v in codes.items()]
        expr = exp.paren(exp.Case(this=varchar(expr.copy()), ifs=whens, default=varchar(expr.copy())))
    return expr


def is_code(column: Column) -> bool:
    """A text column of a few allowed values, typed as a DuckDB ENUM (see `_typed`)."""
    return column.type == "string" and bool(column.allowed) and column.min_value is None


def _typed(column: Column, raw: exp.Column, mapping: Mapping) -> exp.Expr:
    if is_code(column):
        # NULL for a value that is not allowed. An ENUM is one byte per row where text is sixteen: the
        # chunk's table, its sort and the Parquet writer (dictionary pages, no re-hashing) all get cheaper.
        # (through text: a Parquet BINARY or a number would not cast to the ENUM directly)
        return exp.TryCast(this=varchar(raw.copy()), to=enum(column.allowed))
    spec = mapping.source_of(column.name)
    fmt = spec.format
    if fmt and column.type in ("date", "timestamp"):
        parsed = (
            pivot_parse(varchar(raw.copy()), fmt, spec.pivot)
            if spec.pivot is not None
            else call("TRY_STRPTIME", varchar(raw.copy()), lit(fmt))
        )
        return exp.cast(parsed, exp.DataType.Type.DATE) if column.type == "date" else parsed
    if column.type in ("string", "json"):
        return varchar(raw.copy())
    return exp.TryCast(this=raw.copy(), to=data_type(column.sql_type))


@dataclass(frozen=True)
class Plausibility:
    """What the load takes as plausible: nothing dated after `as_of` (times: after its end plus `tolerance`)."""

    as_of: date
    tolerance: timedelta = field(default=timedelta(hours=24))

    @property
    def latest_time(self) -> datetime:
        return datetime.combine(self.as_of + timedelta(days=1), time()) + self.tolerance

    def earliest_birth(self, years: int) -> date:
        """The earliest birth date of someone at most `years` old on the as-of date."""
        try:
            return self.as_of.replace(year=self.as_of.year - years)
        except ValueError:  # 29 February
            return self.as_of.replace(year=self.as_of.year - years, day=28)


def _plausibility_problems(column: Column, typed: exp.Column, plausible: Plausibility) -> list[tuple[exp.Expr, str]]:
    found: list[tuple[exp.Expr, str]] = []
    if column.max_value is not None:
        found.append((typed.copy() > lit(column.max_value), "above_maximum"))
    if column.type == "date" and not column.may_be_future:
        found.append((typed.copy() > exp.cast(lit(plausible.as_of.isoformat()), exp.DataType.Type.DATE), "after_as_of"))
    if column.type == "timestamp" and not column.may_be_future:
        latest = exp.cast(lit(plausible.latest_time.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
        found.append((typed.copy() >= latest, "after_as_of"))
    if column.max_age_years is not None:
        earliest = exp.cast(lit(plausible.earliest_birth(column.max_age_years).isoformat()), exp.DataType.Type.DATE)
        found.append((typed.copy() < earliest, "implausible_age"))
    return found


def _column_problem(
    column: Column, raw: exp.Column, typed: exp.Column, transformed: bool, derived: bool, plausible: Plausibility
) -> exp.Case:
    whens: list[exp.If] = []

    def when(condition: exp.Expr, code: str | None) -> None:
        whens.append(exp.If(this=condition, true=lit(code)))

    if derived:  # a lookup or a helper of a mapping expression said what went wrong: that first
        problem = quoted(PROBLEM_PREFIX + column.name)
        whens.append(exp.If(this=problem.is_(exp.null()).not_(), true=problem.copy()))
    if transformed:  # the hash of an identifier that failed normalisation is NULL: say why first
        when(quoted("__invalid_" + column.name), "bad_identifier")
    when(raw.copy().is_(exp.null()), "missing_required" if column.required else None)
    when(typed.copy().is_(exp.null()), "not_allowed" if is_code(column) else "bad_type")
    if column.allowed and not is_code(column):
        # A cast to an ENUM of the allowed values is NULL for any other value: 3x cheaper than NOT IN.
        allowed = exp.TryCast(this=varchar(typed.copy()), to=enum(column.allowed))
        when(allowed.is_(exp.null()), "not_allowed")
    if column.pattern:
        when(call("regexp_full_match", typed.copy(), lit(column.pattern)).not_(), "bad_format")
    if column.min_value is not None:
        when(typed.copy() < lit(column.min_value), "below_minimum")
    if column.type == "json":
        when(call("json_valid", typed.copy()).not_(), "bad_json")
    for condition, code in _plausibility_problems(column, typed, plausible):
        when(condition, code)
    return exp.Case(ifs=whens)


def partition_expression(table: Table) -> exp.Expr | None:
    if table.partition is None:
        return None
    source = quoted(table.partition.source)
    formats = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    if table.partition.grain == "value":
        return varchar(source)
    return call("strftime", source, lit(formats[table.partition.grain]))


def partition_order_expression(table: Table) -> exp.Expr | None:
    """An integer sort key that keeps each partition's rows together (2x cheaper than text or date_trunc)."""
    if table.partition is None:
        return None
    if table.partition.grain == "value":
        return partition_expression(table)
    source = table.partition.source
    year, month, day = (call(part, quoted(source)) for part in ("year", "month", "day"))
    if table.partition.grain == "year":
        return year
    if table.partition.grain == "month":
        return exp.paren(year * lit(100) + month)
    return exp.paren(year * lit(10000) + month * lit(100) + day)


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
    plausible: Plausibility,
    chunk: exp.Expr | str = "lx_chunk",
) -> CheckPlan:
    """The statements that type and check every row of `chunk` (a table's name, a table or a subquery)."""
    source = sql_table(chunk) if isinstance(chunk, str) else chunk.copy()
    transformed = {name for name in table.column_names if mapping.source_of(name).transform}
    derived = {n for n in table.column_names if PROBLEM_PREFIX + n in source_types}
    present = [c for c in table.columns if c.name in source_types]
    # Three layers so each value is trimmed and cast once: raw text, typed value, problem code.
    raws: list[exp.Expr] = []
    typed_cols: list[exp.Expr] = []
    problems: list[exp.Expr] = []
    for column in present:
        raw_name = "__r_" + column.name
        raws.append(exp.alias_(_raw(column, source_types, mapping), exp.to_identifier(raw_name, quoted=True)))
        typed = _typed(column, quoted(raw_name), mapping)
        typed_cols.append(exp.alias_(typed, exp.to_identifier(column.name, quoted=True)))
        problem = _column_problem(
            column, quoted(raw_name), quoted(column.name), column.name in transformed, column.name in derived, plausible
        )
        problems.append(exp.DPipe(this=lit(column.name + ": "), expression=exp.paren(problem)))
    passthrough = [quoted("__invalid_" + n) for n in sorted(transformed) if n in source_types]
    passthrough += [quoted(PROBLEM_PREFIX + n) for n in sorted(derived)]
    layer0 = exp.select(col("__row"), *passthrough, *raws).from_(source)
    layer1 = exp.select("*", *typed_cols).from_(layer0.subquery())
    listed = exp.Nullif(this=call("concat_ws", lit(PROBLEMS_SEPARATOR), *problems), expression=lit(""))
    typed_sql = exp.select(col("__row"), *(quoted(c.name) for c in present), listed.as_("__problems")).from_(
        layer1.subquery()
    )

    # A key or reference that could not be read is NULL here, and already a column problem.
    def key_ok() -> exp.Expr:
        return exp.and_(*(quoted(k, "t").is_(exp.null()).not_() for k in table.key))

    def key_cols() -> list[exp.Column]:
        return [quoted(k, "t") for k in table.key]

    def key_hash() -> exp.Anonymous:  # as SEEN_TABLE has them
        return call("hash", *(cast_key(table, k, "t") for k in table.key))

    def typed_rows() -> exp.Table:
        return sql_table("lx_typed", alias="t")

    def matches(alias: str) -> exp.Expr:
        return exp.and_(*(quoted(k, alias).eq(quoted(k, "t")) for k in table.key))

    # Duplicates through an aggregate, not a window: a window would carry (and sort) every column.
    repeats = (
        exp.select(*key_cols(), exp.Min(this=col("__row")).as_("__first"))
        .from_(typed_rows())
        .where(exp.and_(key_ok(), in_query(key_hash(), "h", REPEATED_KEYS)))
        .group_by(*key_cols())
        .having(exp.Count(this=exp.Star()) > lit(1))
    )
    duplicates_sql = (
        exp.select(col("__row", "t"), lit("key").as_("field"), lit("duplicate_key").as_("code"))
        .from_(typed_rows())
        .join(repeats.subquery("d"), on=matches("d"))
        .where(exp.NEQ(this=col("__row", "t"), expression=col("__first", "d")))
    )
    origin = exp.Case(
        this=col("__origin", "s"),
        ifs=[exp.If(this=lit("loaded"), true=lit("key_already_loaded"))],
        default=lit("duplicate_key"),
    )
    seen_known = exp.select("*").from_(sql_table(SEEN_TABLE)).where(in_query(col("__h"), "h", KNOWN_KEYS))
    known_sql = (
        exp.select(col("__row", "t"), lit("key"), origin)
        .from_(typed_rows())
        .join(seen_known.subquery("s"), on=matches("s"))
        .where(key_ok())
    )
    new_keys_sql = exp.select(*key_cols(), key_hash(), lit("file")).from_(typed_rows()).where(key_ok())
    parts = []
    for column in references:
        _, ref_key = column.reference or ("", "")
        parts.append(
            exp.select(col("__row", "t"), lit(column.name), lit("unknown_reference"))
            .from_(typed_rows())
            .join(
                sql_table(ref_table_name(column), alias="r"),
                on=quoted(ref_key, "r").eq(quoted(column.name, "t")),
                join_type="anti",
            )
            .where(quoted(column.name, "t").is_(exp.null()).not_())
        )
    for group in table.any_of:
        unset = [quoted(c).is_(exp.null()) for c in group if c in source_types]
        none_set = exp.and_(*unset) if unset else exp.true()
        parts.append(
            exp.select(col("__row"), lit("|".join(group)), lit("missing_identity"))
            .from_(sql_table("lx_typed"))
            .where(none_set)
        )
    good = exp.and_(col("__problems").is_(exp.null()), in_query(col("__row"), "__row", "lx_row_problems").not_())
    key_hashes_sql = exp.select(key_hash().as_("h")).from_(typed_rows()).where(key_ok())
    first_key = cast_key(table, table.key[0], "t")
    key_range_sql = exp.select(
        exp.Min(this=first_key.copy()).as_("low"), exp.Max(this=first_key.copy()).as_("high")
    ).from_(typed_rows())
    known_hashes_sql = (
        exp.select(col("h", "k"))
        .distinct()
        .from_(key_hashes_sql.subquery("k"))
        .join(sql_table(SEEN_TABLE, alias="s"), on=col("__h", "s").eq(col("h", "k")), join_type="semi")
    )
    return CheckPlan(
        typed_sql,
        key_hashes_sql,
        key_range_sql,
        known_hashes_sql,
        duplicates_sql,
        known_sql,
        tuple(parts),
        new_keys_sql,
        good,
        tuple(c.name for c in present),
        partition_order_expression(table),
    )
