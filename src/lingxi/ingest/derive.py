"""The mapping stage: contract columns computed from a bank file's own columns, before any check.

A mapping may fill a contract column with an SQL expression over the file's columns, a constant or a
lookup in a table already loaded (`lingxi.ingest.mapping`). Expressions are parsed by sqlglot (DuckDB
dialect) and accepted only when every node is on a safe list — values, operators, CASE, casts and a few
text, number and date functions, plus the helpers below; no subquery, no table, no other function — and
every column they name is in the file's header (a near miss gets a did-you-mean). They run in DuckDB
as trees, never as pasted text.

Helpers for Chinese extracts (`lingxi.ingest.helpers`): `id_birth_date(x)` and `id_gender(x)` read an
18- or 15-digit resident ID number, `id_problem(x)` says what is wrong with one; `date_pivot(x, fmt,
pivot)` reads a two-digit year in the century the pivot names. A helper that cannot read its input
gives NULL, and the column gets the reason (`bad_check_digit`, `bad_identifier`) as its quarantine
reason. A lookup that finds no row, or several with no `order` to pick one, does the same
(`lookup_not_found`, `lookup_ambiguous`).

The stage is one query per chunk over the raw rows (`lx_source`), with one LEFT JOIN per lookup to a
table of that lookup's keys built once per load from the published snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType
from sqlglot.tokens import Tokenizer

from lingxi.engine.sql import col, lit
from lingxi.engine.sql import table as sql_table
from lingxi.errors import InputError, SpecError
from lingxi.ingest.checks import PROBLEM_PREFIX, quoted, read_parquet, temp_table
from lingxi.ingest.helpers import IdNumber, pivot_parse
from lingxi.ingest.layout import did_you_mean
from lingxi.ingest.mapping import ColumnSource, Lookup, Mapping
from lingxi.schema.contract import TABLES, get_table
from lingxi.schema.types import Table

SOURCE = "lx_source"
HINT = "see docs/loading.md#mapping-expressions"

#: Nodes an expression may contain besides columns and the helpers.
SAFE_NODES: tuple[type[exp.Expr], ...] = (
    exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Identifier, exp.DataType, exp.DataTypeParam, exp.Var,
    exp.Neg, exp.Not, exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike,
    exp.Case, exp.If, exp.Cast, exp.TryCast, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
    exp.Substring, exp.Trim, exp.Upper, exp.Lower, exp.Length, exp.Concat, exp.Replace, exp.Left, exp.Right,
    exp.Pad, exp.SplitPart, exp.StartsWith, exp.Contains, exp.RegexpExtract, exp.RegexpReplace, exp.RegexpLike,
    exp.RegexpFullMatch,
    exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.StrToTime, exp.StrToDate, exp.TimeToStr, exp.DateFromParts,
    exp.Tuple,
)  # fmt: skip
#: DuckDB functions sqlglot does not model, accepted by name.
SAFE_FUNCTIONS = frozenset({"try_strptime", "regexp_full_match", "ltrim", "rtrim", "strip_accents"})


@dataclass(frozen=True)
class Derived:
    """One contract column as the mapping stage computes it: its value and, if it can fail, its reason."""

    value: exp.Expr
    problem: exp.Expr | None = None


@dataclass
class _Helpers:
    """Expands the helper calls of one expression, collecting the reasons they can give."""

    problems: list[exp.Expr] = field(default_factory=list)

    def expand(self, node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Anonymous):
            return node
        name, args = str(node.this).lower(), list(node.expressions)
        helper = HELPERS.get(name)
        if helper is None:
            return node
        arity, build = helper
        if len(args) != arity:
            raise ValueError(f"{name}() takes {arity} argument(s), got {len(args)}")
        value, problem = build(args)
        if problem is not None:
            self.problems.append(problem)
        return value


def _id_helper(part: str) -> Callable[[list[exp.Expr]], tuple[exp.Expr, exp.Expr | None]]:
    def build(args: list[exp.Expr]) -> tuple[exp.Expr, exp.Expr | None]:
        number = IdNumber.of(args[0])
        value = {"birth_date": number.birth_date, "gender": number.gender, "problem": number.problem}[part]
        return value, None if part == "problem" else number.problem

    return build


def _date_pivot(args: list[exp.Expr]) -> tuple[exp.Expr, exp.Expr | None]:
    fmt, pivot = args[1], args[2]
    if not (isinstance(fmt, exp.Literal) and fmt.is_string and isinstance(pivot, exp.Literal) and pivot.is_int):
        raise ValueError("date_pivot(value, 'format', pivot year) takes a text format and a four-digit year")
    as_text = exp.Cast(this=args[0], to=exp.DataType.build("VARCHAR"))
    return exp.cast(pivot_parse(as_text, fmt.name, int(pivot.name)), exp.DataType.Type.DATE), None


HELPERS: dict[str, tuple[int, Callable[[list[exp.Expr]], tuple[exp.Expr, exp.Expr | None]]]] = {
    "id_birth_date": (1, _id_helper("birth_date")),
    "id_gender": (1, _id_helper("gender")),
    "id_problem": (1, _id_helper("problem")),
    "date_pivot": (3, _date_pivot),
}


def parse(text: str) -> exp.Expr:
    """An expression's tree; ValueError naming the first node that is not allowed."""
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except ParseError as e:
        raise ValueError(
            f"`{text}` is not an SQL expression: {e.errors[0]['description'] if e.errors else e}"
        ) from None
    for node in tree.walk():
        if isinstance(node, exp.Column):
            if node.table:
                raise ValueError(f"`{node.sql('duckdb')}`: name the file's column alone, without a table")
            continue
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in HELPERS and name not in SAFE_FUNCTIONS:
                raise ValueError(f"function `{node.this}` is not allowed in a mapping ({_allowed_hint()})")
            continue
        if not isinstance(node, SAFE_NODES):
            what = node.sql("duckdb") or type(node).__name__
            raise ValueError(f"`{what}` is not allowed in a mapping expression ({_allowed_hint()})")
    return tree


def _allowed_hint() -> str:
    return f"helpers: {', '.join(sorted(HELPERS))}; {HINT}"


def bind(tree: exp.Expr, header: Sequence[str], qualifier: str | None = None) -> exp.Expr:
    """`tree` with each column bound to its exact name in `header` (quoted); ValueError with a did-you-mean."""
    exact = set(header)
    folded: dict[str, list[str]] = {}
    for name in header:
        folded.setdefault(name.lower(), []).append(name)

    def resolve(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column):
            return node
        name = node.name
        if name not in exact:
            matches = folded.get(name.lower(), [])
            if len(matches) != 1:
                raise ValueError(f"no column `{name}` in the file{did_you_mean(name, header)}")
            name = matches[0]
        return quoted(name, qualifier)

    return tree.copy().transform(resolve)


def check_mapping(table: Table, mapping: Mapping) -> list[str]:
    """Problems of the mapping's expressions and lookups that need no file: syntax, functions, lookup tables."""
    problems: list[str] = []
    for name, spec in mapping.derived_columns().items():
        try:
            if spec.expr is not None:
                parse(spec.expr).transform(_Helpers().expand)  # the arity of helpers, too
            if spec.lookup is not None:
                _check_lookup(spec.lookup)
        except (ValueError, KeyError) as e:
            problems.append(f"{mapping.where(name)}: {str(e).strip(chr(34))}")
    return problems


def _check_lookup(lookup: Lookup) -> None:
    if lookup.table not in TABLES:
        raise ValueError(
            f"lookup table `{lookup.table}` is not a contract table{did_you_mean(lookup.table, list(TABLES))}"
        )
    columns = get_table(lookup.table).column_names
    for name in [*lookup.by, lookup.value]:
        if name not in columns:
            raise ValueError(f"`{lookup.table}` has no column `{name}`{did_you_mean(name, columns)}")
    if not lookup.by:
        raise ValueError("a lookup needs `by:` (lookup column: the file's column)")
    if lookup.where is not None:
        bind(parse(lookup.where), columns)
    if lookup.order is not None:
        _order(lookup.order, columns)


def _order(order: str, columns: Sequence[str]) -> list[exp.Ordered]:
    """`order` (`opened_at DESC, account_id`) as ORDER BY items over `columns`, each checked like an expression.

    The text is cut into items at its top-level commas by sqlglot's tokenizer, a trailing ASC or DESC
    is taken off each, and what is left is parsed and checked as any mapping expression.
    """
    items: list[exp.Ordered] = []
    for text, desc in _order_items(order):
        if not text.strip():
            raise ValueError(f"`order: {order}` is not a list of columns, e.g. `opened_at DESC, account_id`")
        items.append(exp.Ordered(this=bind(parse(text), columns), desc=desc))
    return items


def _order_items(order: str) -> list[tuple[str, bool]]:
    try:
        tokens = Tokenizer(dialect="duckdb").tokenize(order)
    except TokenError:
        raise ValueError(f"`order: {order}` is not a list of columns, e.g. `opened_at DESC, account_id`") from None
    groups: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if token.token_type == TokenType.COMMA and depth == 0:
            groups.append([])
        else:
            groups[-1].append(token)
    items = []
    for group in groups:
        desc = bool(group) and group[-1].token_type == TokenType.DESC
        if group and group[-1].token_type in (TokenType.ASC, TokenType.DESC):
            group = group[:-1]
        items.append((order[group[0].start : group[-1].end + 1] if group else "", desc))
    return items


@dataclass
class MappingStage:
    """The compiled mapping stage of one load: the per-chunk query over `lx_source`, and its lookups."""

    table: Table
    select: exp.Select
    lookups: dict[str, Lookup]
    used: frozenset[str]  # the file's columns the stage reads

    def lookup_tables(self) -> list[str]:
        return [_lookup_table(target) for target in self.lookups]

    def prepare(
        self, run_query: Callable[[exp.Expression, str], None], snapshot_globs: Callable[[str], list[str] | None]
    ) -> None:
        """Build each lookup's key table from the published snapshot of its table (once per load)."""
        for target, lookup in self.lookups.items():
            globs = snapshot_globs(lookup.table)
            if globs is None:
                raise InputError(
                    f"`{self.table.name}.{target}` is looked up in `{lookup.table}`, which is not loaded yet",
                    hint=f"load `{lookup.table}` first",
                )
            run_query(
                temp_table(_lookup_table(target), _lookup_keys(lookup, globs)), f"lookup keys in `{lookup.table}`"
            )


def _lookup_table(target: str) -> str:
    return f"lx_lookup_{target}"


def _key_name(i: int) -> str:
    return f"__k{i}"


def _lookup_keys(lookup: Lookup, globs: list[str]) -> exp.Select:
    """One row per key of the lookup table: the value of its first row (by `order`) and how many rows match."""
    columns = get_table(lookup.table).column_names
    scan = read_parquet(globs, hive_partitioning=True, union_by_name=True)
    keys = [exp.Cast(this=quoted(name), to=exp.DataType.build("VARCHAR")) for name in lookup.by]
    partition = [k.copy() for k in keys]
    ordered: list[exp.Expr] = [*_order(lookup.order, columns)] if lookup.order else [quoted(lookup.value)]
    window = exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=ordered))
    count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[k.copy() for k in keys])
    inner = exp.select(
        *(k.as_(_key_name(i)) for i, k in enumerate(keys)),
        quoted(lookup.value).as_("__v"),
        count.as_("__n"),
        window.as_("__rank"),
    ).from_(scan)
    if lookup.where:
        inner = inner.where(bind(parse(lookup.where), columns))
    return exp.select("*").from_(inner.subquery("l")).where(col("__rank").eq(lit(1)))


def compile_stage(table: Table, mapping: Mapping, header: Sequence[str]) -> MappingStage:
    """The stage's query for a file with `header`; a SpecError lists every column that cannot be bound."""
    problems: list[str] = []
    outputs: list[exp.Expr] = [col("__row", "s")]
    parts = _Parts(header)
    for name in table.column_names:
        spec = mapping.source_of(name)
        try:
            derived = _derive(name, spec, parts)
        except ValueError as e:
            problems.append(f"{mapping.where(name)}: {e}")
            continue
        if derived is None:
            continue
        outputs.append(exp.alias_(derived.value, exp.to_identifier(name, quoted=True)))
        if derived.problem is not None:
            outputs.append(exp.alias_(derived.problem, exp.to_identifier(PROBLEM_PREFIX + name, quoted=True)))
    if problems:
        raise SpecError("Mapping expressions", problems, hint=HINT)
    select = exp.select(*outputs).from_(sql_table(SOURCE, alias="s"))
    for alias, condition in parts.joins:
        select = select.join(sql_table(alias.removesuffix("_j"), alias=alias), on=condition, join_type="left")
    return MappingStage(table, select, parts.lookups, frozenset(parts.used))


@dataclass
class _Parts:
    """What compiling the stage collects besides its columns: the lookups' joins and the file's columns read."""

    header: Sequence[str]
    joins: list[tuple[str, exp.Expr]] = field(default_factory=list)
    lookups: dict[str, Lookup] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def bound(self, text: str) -> exp.Expr:
        tree = bind(parse(text), self.header, "s")
        self.used.update(c.name for c in tree.find_all(exp.Column))
        return tree


def _derive(name: str, spec: ColumnSource, parts: _Parts) -> Derived | None:
    if spec.source is not None:
        if spec.source not in parts.header:
            return None  # absent: the loader reports a required column missing, as for any file
        parts.used.add(spec.source)
        return Derived(quoted(spec.source, "s"))
    if spec.lookup is not None:
        return _lookup(name, spec.lookup, parts)
    if spec.expr is None:  # a constant, as text like every value read from a file
        constant = spec.const
        if constant is None:
            return Derived(exp.null())
        return Derived(lit(str(constant).lower() if isinstance(constant, bool) else str(constant)))
    helpers = _Helpers()
    value = parts.bound(spec.expr).transform(helpers.expand)
    if not helpers.problems:
        return Derived(value)
    first, *rest = helpers.problems
    return Derived(value, exp.Coalesce(this=first, expressions=rest) if rest else first)


def _lookup(name: str, lookup: Lookup, parts: _Parts) -> Derived:
    alias = _lookup_table(name) + "_j"
    conditions: list[exp.Expr] = []
    keys: list[exp.Expr] = []
    for i, source in enumerate(lookup.by.values()):
        key = exp.Trim(this=exp.Cast(this=parts.bound(source), to=exp.DataType.build("VARCHAR")))
        keys.append(key)
        conditions.append(col(_key_name(i), alias).eq(key.copy()))
    parts.joins.append((alias, exp.and_(*conditions)))
    parts.lookups[name] = lookup
    count = col("__n", alias)
    ambiguous = exp.and_(count.copy() > lit(1), exp.true() if lookup.order is None else exp.false())
    any_key_missing = exp.or_(*(k.copy().is_(exp.null()) for k in keys), *(k.copy().eq(lit("")) for k in keys))
    problem = exp.Case(
        ifs=[
            exp.If(this=any_key_missing, true=exp.null()),
            exp.If(this=count.copy().is_(exp.null()), true=lit("lookup_not_found")),
            exp.If(this=ambiguous, true=lit("lookup_ambiguous")),
        ]
    )
    value = exp.Case(ifs=[exp.If(this=ambiguous.copy(), true=exp.null())], default=col("__v", alias))
    return Derived(value, problem)
