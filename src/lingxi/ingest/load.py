"""The batch loader: a bank extract in, a published lake snapshot and a quarantine out.

Rows stream through in chunks: each chunk is typed and checked in DuckDB (see checks.py), good rows
are sorted there and written as Parquet by a background writer (parts.py), bad rows go to the
quarantine with every problem found.
Nothing is dropped: rows in = rows valid + rows quarantined. The snapshot is published only when the
quarantined share is within `max_bad`, so a broken extract never replaces a good one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session
from sqlglot import exp

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.engine.sql import asc, col, lit
from lingxi.engine.sql import table as sql_table
from lingxi.errors import InputError, SpecError
from lingxi.ingest.checks import (
    PROBLEMS_SEPARATOR,
    REASONS,
    CheckPlan,
    Plausibility,
    build_check_plan,
    drop_table,
    is_code,
    quoted,
    read_parquet,
    ref_table_name,
    temp_table,
)
from lingxi.ingest.chunks import Chunk, ProgressCallback, iter_chunks
from lingxi.ingest.control import wait_for_done_flag
from lingxi.ingest.currency import Currencies
from lingxi.ingest.derive import SOURCE, MappingStage, check_mapping, compile_stage
from lingxi.ingest.erased_rows import ERASED_TABLES, leave_out_erased
from lingxi.ingest.formats import ReaderStage, text_layout
from lingxi.ingest.keys import SeenKeys
from lingxi.ingest.parts import PART_COLUMN, PartWriter
from lingxi.ingest.quarantine import Quarantine
from lingxi.ingest.readers import SourceFiles, TextLayout, find_files
from lingxi.ingest.replace import Replacement, period_column
from lingxi.ingest.report import LoadOptions, LoadReport, business_today
from lingxi.ingest.review import summarise_quarantine
from lingxi.privacy.erased import ErasureRegistry, load_registry
from lingxi.privacy.identifiers import NORMALISERS, keyed_hash
from lingxi.schema.contract import get_table
from lingxi.schema.types import Column, Table
from lingxi.store.db import session_factory
from lingxi.store.lake import Lake, utcnow
from lingxi.store.tables import DatasetVersion
from lingxi.store.tables import Load as LoadRow

__all__ = ["LoadOptions", "LoadReport", "LoaderEngine", "business_today", "describe_reason", "load", "loader_engine"]

#: The loader's engine: always DuckDB (its checks are tuned DuckDB SQL), whatever the analytic engine is.
LoaderEngine = DuckDBEngine


def loader_engine(
    *, memory_limit: str | None = "2GB", threads: int | None = None, temp_directory: Path | None = None
) -> LoaderEngine:
    """A DuckDB engine for the loader, which runs beside the analytic engine (`lingxi.engine.engine_from`).

    Commands and the pipeline build the loader's engine here, so only the loader imports the DuckDB engine.
    """
    return DuckDBEngine(memory_limit=memory_limit, threads=threads, temp_directory=temp_directory)


def load(
    lake: Lake, engine: LoaderEngine, options: LoadOptions, on_progress: ProgressCallback | None = None
) -> LoadReport:
    """Validate the file(s) at `options.path` against the contract table and publish the good rows.

    The load holds the dataset's writer lock (lingxi.store.locks) from start to publish.
    """
    table = get_table(options.table)
    if options.replace is not None:
        period_column(table)  # refused before anything is recorded
    with lake.writing(table.name, f"load of {options.path}"):
        return _load(lake, engine, options, on_progress)


def _load(
    lake: Lake, engine: LoaderEngine, options: LoadOptions, on_progress: ProgressCallback | None = None
) -> LoadReport:
    table = get_table(options.table)
    options.mapping.check(table)
    if problems := check_mapping(table, options.mapping):
        raise SpecError(f"Mapping for `{table.name}`", problems, hint="see docs/loading.md#mapping-expressions")
    wait_for_done_flag(options.path, options.mapping.control)
    source = find_files(options.path, options.format or options.mapping.file.format)
    layout = text_layout(options.mapping, encoding=options.encoding, delimiter=options.delimiter)
    stage = ReaderStage(options.mapping, table, source, delimiter=layout.delimiter)
    # The same bytes read with another mapping or contract version are a different input.
    settings_digest = hashlib.sha256(
        f"{source.fingerprint()}|{options.mapping.model_dump_json()}|{table.name}@{table.version}".encode()
    )
    fingerprint = settings_digest.hexdigest()
    sessions = session_factory(lake.store)
    load_id = f"{utcnow().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    started = time.perf_counter()
    report = LoadReport(load_id, table.name, str(options.path), "running", max_bad=options.max_bad)

    with sessions.begin() as session:
        earlier = None if options.replace else _already_loaded(session, lake, table, fingerprint)
        session.add(
            LoadRow(
                id=load_id,
                dataset=table.name,
                source=str(options.path),
                fingerprint=fingerprint,
                status="unchanged" if earlier else "running",
                reasons={},
                started_at=utcnow(),
                finished_at=utcnow() if earlier else None,
                message=f"same input as load {earlier}" if earlier else None,
            )
        )
    if earlier:
        report.status, report.previous_load = "unchanged", earlier
        snapshot = lake.snapshot(table.name)
        report.version = snapshot.version if snapshot else None
        return report

    folder = lake.new_folder(table.name)
    run = _Run(lake, engine, table, options, report, folder, lake.quarantine_folder(table.name, load_id))
    run.read_with(layout, stage)
    try:
        run.prepare()
        for chunk in run.chunks(source, on_progress):
            run.check_chunk(chunk)
        run.parts.close()
        run.quarantine_malformed(source)
        report.fallbacks = {c: dict(n.most_common()) for c, n in stage.fallbacks.items()}
        if stage.totals is not None:
            stage.totals.verify(source)  # a file that lost or changed rows in transit publishes nothing
        run.currencies.check()  # an amount without an FX rate fails the load (ingest/currency.py)
        if report.rows_in == 0:
            raise InputError(f"`{options.path}` holds no data rows", hint="check the file and its header line")
        if run.replacing is not None:
            run.replacing.check()  # rows outside the period refuse the replacement, whatever else is wrong
        if report.bad_share > options.max_bad:
            report.status = "rejected"
            shutil.rmtree(folder, ignore_errors=True)
        elif report.rows_valid == 0:  # nothing new to show: an empty snapshot would only hide the last one
            report.status = "empty"
            shutil.rmtree(folder, ignore_errors=True)
        elif run.replacing is not None:
            report.version = run.replacing.publish(
                folder,
                rows=report.rows_valid,
                contract_version=table.version,
                as_of=options.as_of or business_today(),
                load_id=load_id,
            )
            report.status = "published"
        else:
            report.version = lake.publish(
                table.name,
                folder,
                mode=table.mode,
                row_count=report.rows_valid,
                contract_version=table.version,
                as_of=options.as_of or business_today(),
                load_id=load_id,
            )
            report.status = "published"
    except BaseException as e:
        shutil.rmtree(folder, ignore_errors=True)
        _finish(sessions, report, status="failed", message=str(e))
        raise
    finally:
        run.cleanup()
    note = None  # why the quarantine's summary is missing, if it is
    if report.rows_quarantined:
        report.quarantine_path = str(run.quarantine_dir)
        report.top_values, note = summarise_quarantine(engine, run.quarantine_dir, table, options.mapping_path)
    else:
        shutil.rmtree(run.quarantine_dir, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    _finish(sessions, report, status=report.status, message=note)
    return report


def _finish(sessions: Callable[[], Session], report: LoadReport, *, status: str, message: str | None) -> None:
    with sessions() as session, session.begin():
        row = session.get(LoadRow, report.load_id)
        assert row is not None
        row.status = status
        row.rows_in, row.rows_loaded, row.rows_quarantined = report.rows_in, report.rows_valid, report.rows_quarantined
        row.reasons = dict(report.reasons)
        row.quarantine_path = report.quarantine_path
        row.version = report.version
        row.message = message
        row.finished_at = utcnow()


def _already_loaded(session: Session, lake: Lake, table: Table, fingerprint: str) -> str | None:
    """The id of a published load of the same input that is still part of the visible snapshot."""
    snapshot = lake.snapshot(table.name)
    if snapshot is None:
        return None
    visible = {str(p) for p in lake.carried_folders(snapshot)}  # also folders compaction merged
    earlier = session.query(LoadRow).filter_by(dataset=table.name, fingerprint=fingerprint, status="published")
    for row in earlier.order_by(LoadRow.started_at.desc()):
        version = session.query(DatasetVersion).filter_by(dataset=table.name, version=row.version).one_or_none()
        if version is not None and str(lake.root / version.parts[-1]) in visible:
            return row.id
    return None


@dataclass(frozen=True)
class _ChunkRows:
    """A chunk as DuckDB reads it: a relation with the contract's column names and `__row`."""

    relation: exp.Expr  # a table or a subquery
    types: dict[str, pa.DataType]
    kept: int  # rows after erased customers' rows are left out
    raw_rows: Callable[[pa.Array], list[dict[str, object]]]  # the input rows with these `__row` numbers
    release: Callable[[], None]

    @property
    def columns(self) -> list[str]:
        return list(self.types)


class _Run:
    """State of one load while its chunks stream through."""

    def __init__(
        self,
        lake: Lake,
        engine: LoaderEngine,
        table: Table,
        options: LoadOptions,
        report: LoadReport,
        folder: Path,
        quarantine_dir: Path,
    ) -> None:
        self.lake, self.engine, self.table, self.options, self.report = lake, engine, table, options, report
        self.folder, self.quarantine_dir = folder, quarantine_dir
        self.references: list[Column] = []
        self.chunk_index = 0
        self.source_of = {c: options.mapping.source_of(c) for c in table.column_names}
        self.renames = {spec.source: name for name, spec in self.source_of.items() if spec.source is not None}
        self.derives = bool(options.mapping.derived_columns())  # then a mapping stage runs before the checks
        self.derived: MappingStage | None = None  # compiled against the first chunk's header
        self.plausible = Plausibility(options.as_of or business_today(), options.future_tolerance)
        self.erased = ErasureRegistry(frozenset(), frozenset(), options.hash_key)
        self.file: Path | None = None
        self.file_rows = 0  # rows of `self.file` read so far
        self.parquet_schemas: dict[Path, pa.Schema] = {}
        self.seen = SeenKeys(engine, table)
        self.replacing = None if options.replace is None else Replacement(lake, table, options.replace, options.actor)
        self.parts = PartWriter(table, folder)
        self.currencies = Currencies(lake, engine, table)
        self.layout = TextLayout()  # how text files are read (formats.text_layout)
        self.stage: ReaderStage | None = None  # the mapping's per-chunk transformations (formats.py)
        redacted = {n for n, spec in self.source_of.items() if spec.transform}
        self.quarantine = Quarantine(quarantine_dir, report.load_id, redacted=redacted)

    def read_with(self, layout: TextLayout, stage: ReaderStage) -> None:
        self.layout, self.stage = layout, stage

    def prepare(self) -> None:
        """The table of keys already seen (earlier chunks and, when appending, the published rows)."""
        self.erased = load_registry(self.lake.store, self.options.hash_key)
        snapshot = self.lake.snapshot(self.table.name)
        published = snapshot.parquet_globs if self.table.mode == "append" and snapshot is not None else []
        self.seen.start(published if self.replacing is None else self.replacing.start())

    def prepare_references(self, present: list[str]) -> None:
        """Key sets of the referenced tables, for the reference columns this input has."""
        if not self.options.check_references:
            return
        for column, ref_table, ref_key in self.table.references:
            if column.name not in present:
                continue
            snapshot = self.lake.snapshot(ref_table)
            if snapshot is None:
                raise InputError(
                    f"`{self.table.name}.{column.name}` refers to `{ref_table}`, which is not loaded yet",
                    hint=f"load `{ref_table}` first, or pass --no-check-references",
                )
            scan = read_parquet(list(snapshot.parquet_globs), hive_partitioning=True, union_by_name=True)
            keys = exp.select(quoted(ref_key)).distinct().from_(scan)
            self.engine.execute(temp_table(ref_table_name(column), keys), label=f"keys of `{ref_table}`")
            self.references.append(column)

    def chunks(self, source: SourceFiles, on_progress: ProgressCallback | None) -> Iterator[Chunk]:
        return iter_chunks(
            source,
            chunk_rows=self.options.chunk_rows,
            layout=self.layout,
            in_place=not self.derives
            and not any(spec.transform for spec in self.source_of.values())
            and not (self.stage and self.stage.needs_rows),
            on_progress=on_progress,
        )

    def check_chunk(self, chunk: Chunk) -> None:
        if chunk.path != self.file:  # quarantined rows are numbered within their file
            self.file, self.file_rows = chunk.path, 0
        rows = self._in_memory(chunk, chunk.table) if chunk.table is not None else self._in_place(chunk)
        if self.chunk_index == 0:
            self.prepare_references(rows.columns)
            self.currencies.prepare(rows.columns)
        relation, types = self.currencies.fill(rows.relation, rows.types)  # an empty currency: the product's...
        plan = build_check_plan(
            self.table,
            self.options.mapping,
            types,
            references=self.references,
            plausible=self.plausible,
            chunk=relation,
        )
        try:
            self.engine.execute(temp_table("lx_typed", plan.typed_sql), label="typed chunk")
        finally:
            rows.release()
        if self.replacing is not None:
            self.replacing.count_outside(self.engine)
        self.seen.find_row_problems(plan)
        self.currencies.record(plan)
        bad = self._quarantine_bad(chunk.path, rows, plan)
        self._write_good(plan)
        self.report.rows_valid += rows.kept - bad
        self.chunk_index += 1

    def _in_memory(self, chunk: Chunk, table: pa.Table) -> _ChunkRows:
        """An Arrow chunk, numbered, without erased customers, identifiers hashed, registered with DuckDB."""
        first = self.file_rows + 1
        numbers = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
        if self.derives:
            raw = self._mapped(table.append_column("__row", numbers), chunk.path)
        else:
            raw = table.rename_columns([self.renames.get(n, n) for n in table.column_names])
            self._require_columns(raw.column_names, chunk.path)
            raw = raw.append_column("__row", numbers)
        self.file_rows += raw.num_rows
        self.report.rows_in += raw.num_rows
        checked = self._apply_transforms(self.stage.apply(chunk.path, raw) if self.stage else raw)
        self.engine.register_arrow("lx_chunk", checked)
        relation, erased = leave_out_erased(self.engine, self.erased, sql_table("lx_chunk"), checked.column_names)
        self.report.rows_erased += erased

        def raw_rows(bad: pa.Array) -> list[dict[str, object]]:
            rows: list[dict[str, object]] = raw.take(pc.index_in(bad, value_set=raw.column("__row"))).to_pylist()
            return rows

        return _ChunkRows(
            relation=relation,
            types={n: checked.schema.field(n).type for n in checked.column_names},
            kept=raw.num_rows - erased,
            raw_rows=raw_rows,
            release=lambda: self.engine.unregister("lx_chunk"),
        )

    def _mapped(self, source: pa.Table, path: Path) -> pa.Table:
        """The mapping stage over a raw chunk (the file's own column names): the contract's columns, derived."""
        header = [n for n in source.column_names if n != "__row"]
        if self.derived is None:
            self.derived = compile_stage(self.table, self.options.mapping, header)

            def globs(dataset: str) -> list[str] | None:
                snapshot = self.lake.snapshot(dataset)
                return None if snapshot is None else list(snapshot.parquet_globs)

            self.derived.prepare(lambda q, label: self.engine.execute(q, label=label), globs)
        self.engine.register_arrow(SOURCE, source)
        try:
            mapped = self.engine.run(self.derived.select, label="mapping stage")
        finally:
            self.engine.unregister(SOURCE)
        self._require_columns(mapped.column_names, path)
        if self.chunk_index == 0:
            self.report.ignored_columns = sorted(set(header) - self.derived.used - set(self.table.column_names))
        return mapped

    def _in_place(self, chunk: Chunk) -> _ChunkRows:
        """A row range of a Parquet file, read by DuckDB where it lies, numbered from 1 within the file."""
        scan = read_parquet(str(chunk.path), file_row_number=True, hive_partitioning=False)
        if chunk.path not in self.parquet_schemas:  # as DuckDB types the file: once per file
            self.parquet_schemas[chunk.path] = self.engine.run(
                exp.select("*").from_(scan).limit(0), label="schema"
            ).schema
        schema = self.parquet_schemas[chunk.path]
        renamed = [(n, self.renames.get(n, n)) for n in schema.names if n != "file_row_number"]
        self._require_columns([name for _, name in renamed], chunk.path)
        columns = [exp.alias_(quoted(source), exp.to_identifier(name, quoted=True)) for source, name in renamed]
        number = col("file_row_number")
        in_range = exp.and_(number >= lit(chunk.first), number < lit(chunk.end))
        relation: exp.Expr = exp.select(*columns, (number + lit(1)).as_("__row")).from_(scan).where(in_range).subquery()
        self.report.rows_in += chunk.num_rows
        relation, erased = leave_out_erased(self.engine, self.erased, relation, [name for _, name in renamed])
        self.report.rows_erased += erased

        def raw_rows(bad: pa.Array) -> list[dict[str, object]]:
            self.engine.register_arrow("lx_bad_rows", pa.table({"__row": bad}))
            try:
                query = (
                    exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("s")))
                    .from_(exp.alias_(relation.copy(), "s", table=True))
                    .join(sql_table("lx_bad_rows", alias="b"), using=["__row"], join_type="semi")
                    .order_by(asc(col("__row")))
                )
                found = self.engine.run(query, label="quarantined rows")
            finally:
                self.engine.unregister("lx_bad_rows")
            rows: list[dict[str, object]] = found.to_pylist()
            return rows

        types = {name: schema.field(source).type for source, name in renamed}
        return _ChunkRows(
            relation=relation,
            types=types | {"__row": pa.int64()},
            kept=chunk.num_rows - erased,
            raw_rows=raw_rows,
            release=lambda: None,
        )

    def _require_columns(self, names: list[str], path: Path) -> None:
        if self.chunk_index == 0:
            known = set(self.table.column_names)
            self.report.ignored_columns = [n for n in names if n not in known]
        missing = [c.name for c in self.table.columns if c.required and c.name not in names]
        if missing:
            sources = ", ".join(f"`{self.source_of[m].source}`" for m in missing)
            raise InputError(
                f"`{path}` lacks the column(s) {sources} required by `{self.table.name}` "
                f"(file has: {', '.join(names)})",
                hint="rename them in the file or map them with --mapping (see docs/loading.md#mapping-files)",
            )

    def _apply_transforms(self, raw: pa.Table) -> pa.Table:
        chunk = raw
        for name, spec in self.source_of.items():
            if spec.transform is None or name not in chunk.column_names:
                continue
            normalise = NORMALISERS[spec.transform]
            hashed, invalid = [], []
            for value in chunk.column(name).to_pylist():
                norm = normalise(str(value)) if value is not None and str(value).strip() else None
                hashed.append(keyed_hash(norm, self.options.hash_key) if norm else None)
                invalid.append(value is not None and str(value).strip() != "" and norm is None)
            chunk = chunk.set_column(chunk.column_names.index(name), name, pa.array(hashed, pa.string()))
            chunk = chunk.append_column(f"__invalid_{name}", pa.array(invalid, pa.bool_()))
        return chunk

    def _write_good(self, plan: CheckPlan) -> None:
        """Sort the chunk's good rows in DuckDB and hand them to the background writer."""
        columns: list[exp.Expr] = [quoted(c) for c in plan.present]
        sort_by: list[exp.Expr] = [  # a code column (an ENUM while checked) sorts as the text it is in the files
            exp.cast(quoted(c), exp.DataType.Type.VARCHAR) if is_code(self.table.column(c)) else quoted(c)
            for c in self.table.sort_by
            if c in plan.present
        ]
        if plan.partition_key:
            partition_key = plan.partition_key
            columns.append(partition_key.copy().as_(PART_COLUMN))
            sort_by.insert(0, partition_key)
        query = (
            exp.select(*columns)
            .from_(sql_table("lx_typed"))
            .where(plan.good.copy())
            .order_by(*(asc(e) for e in sort_by))
        )
        rows = self.engine.run(query, label="good rows")
        self.parts.write(rows, self.chunk_index)

    def _quarantine_bad(self, path: Path, chunk: _ChunkRows, plan: CheckPlan) -> int:
        """Write the chunk's bad rows to the quarantine with every problem found; returns their number."""
        bad_rows = (
            exp.select("__row", "__problems")
            .from_(sql_table("lx_typed"))
            .where(exp.paren(plan.good.copy()).not_())
            .order_by(asc(col("__row")))
        )
        bad = self.engine.run(bad_rows, label="bad rows")
        if bad.num_rows == 0:
            return 0
        row_problems: dict[int, list[str]] = {}
        for item in self.engine.run(
            exp.select("*").from_(sql_table("lx_row_problems")), label="row problems"
        ).to_pylist():
            row_problems.setdefault(item["__row"], []).append(f"{item['field']}: {item['code']}")
        rows = bad.column("__row").to_pylist()
        problems_per_row: list[list[str]] = []
        for row, listed in zip(rows, bad.column("__problems").to_pylist(), strict=True):
            problems = [*(listed.split(PROBLEMS_SEPARATOR) if listed else []), *sorted(row_problems.get(row, []))]
            self.quarantine.reasons.update(problems)
            problems_per_row.append(problems)
        raw_rows = chunk.raw_rows(bad.column("__row").combine_chunks())
        self.quarantine.write(
            file=str(path), rows=rows, problems=problems_per_row, raw=[self.quarantine.as_json(r) for r in raw_rows]
        )
        self._count_quarantined()
        return int(bad.num_rows)

    def quarantine_malformed(self, source: SourceFiles) -> None:
        if not source.malformed:
            return
        self.quarantine.reasons["row: malformed_row"] += len(source.malformed)
        self.quarantine.write(
            file=source.malformed[0].file,
            rows=[m.row for m in source.malformed],  # as data rows: the first after the header is 1
            problems=[[f"row: malformed_row ({m.reason})"] for m in source.malformed],
            raw=[json.dumps({"line": m.text}, ensure_ascii=False) for m in source.malformed],
            files=[m.file for m in source.malformed],
        )
        self.report.rows_in += len(source.malformed)
        self._count_quarantined()

    def _count_quarantined(self) -> None:
        self.report.rows_quarantined = self.quarantine.rows
        self.report.reasons = dict(self.quarantine.reasons.most_common())

    def cleanup(self) -> None:
        self.parts.close()
        if self.replacing is not None:
            self.replacing.discard()
        self.seen.drop()
        for name in (
            "lx_typed",
            "lx_row_problems",
            *ERASED_TABLES,
            *(ref_table_name(c) for c in self.references),
            *(self.derived.lookup_tables() if self.derived else []),
            *self.currencies.temp_tables,
        ):
            self.engine.execute(drop_table(name), label="cleanup")


def describe_reason(code: str) -> str:
    return REASONS.get(code, code)
