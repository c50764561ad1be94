"""Delivery checks: wait for the sender's done flag, and check each file's record count and control total.

Core-banking unloads prove themselves complete in two ways: a flag file written once the extract is
(`txn_20261122.del.done`), and control figures the sender computed while writing it, either in a trailer
record on the file's last line or in a control file beside it. A file cut short in transit or altered
on the way loads without error otherwise, so a mismatch refuses the whole load before anything is
published, naming each file with the figures expected and found.

The figures cover every data record of the file as sent: rows later quarantined, malformed lines and
rows of erased customers are counted too; header lines, skipped lines and the trailer are not.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from lingxi.errors import DataQualityError, InputError
from lingxi.ingest.layout import ControlOptions, fill_template
from lingxi.ingest.readers import SourceFiles

_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
_SEPARATORS = ("|", ",", "\t", ";", "\x1e", "\x1f", "\x01")


def wait_for_done_flag(
    path: Path,
    control: ControlOptions | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once the done flag beside `path` exists; fail clearly after `control.wait_seconds`."""
    if control is None or control.done_flag is None:
        return
    flag = path.parent / fill_template(control.done_flag, name=path.name, stem=path.stem)
    deadline = clock() + control.wait_seconds
    while not flag.exists():
        left = deadline - clock()
        if left <= 0:
            waited = f"waited {control.wait_seconds:g} s" if control.wait_seconds else "control.wait_seconds is 0"
            raise InputError(
                f"the done flag `{flag}` is not there ({waited}): the extract may still be being written",
                hint="load it once the sender has written the flag, or wait longer with control.wait_seconds",
            )
        sleep(min(0.5, left))


class ControlTotals:
    """The figures each file should have (from its trailer or control file) and the figures found."""

    def __init__(
        self,
        control: ControlOptions,
        source: SourceFiles,
        *,
        delimiter: str | None,
        normalise: Callable[[str], str],
    ) -> None:
        self.control, self.delimiter, self.normalise = control, delimiter, normalise
        self.rows: Counter[Path] = Counter()
        self.totals: dict[Path, Decimal] = {}
        self.unreadable: Counter[Path] = Counter()  # values of `sum_of` that are not numbers
        self.control_files: dict[Path, tuple[Path, str]] = {}
        if control.file is not None:  # read now: a missing control file stops the load before any row is read
            for path in source.files:
                found = path.parent / fill_template(control.file, name=path.name, stem=path.stem)
                try:
                    self.control_files[path] = (found, found.read_text(encoding="utf-8-sig", errors="replace"))
                except OSError as e:
                    raise InputError(
                        f"the control file `{found}` of `{path}` cannot be read ({e.strerror})",
                        hint="the sender writes it beside the data file; check control.file in the mapping",
                    ) from e

    def tally(self, path: Path, chunk: pa.Table) -> None:
        """Count a chunk's rows and add up its `sum_of` column (after the reader stage)."""
        self.rows[path] += chunk.num_rows
        column = self.control.sum_of
        if column is None or column not in chunk.column_names:
            return
        values = chunk[column]
        total = self.totals.get(path, Decimal(0))
        if pa.types.is_string(values.type):
            text = pc.utf8_trim_whitespace(values)
            readable = pc.match_substring_regex(text, _NUMBER)
            self.unreadable[path] += int(pc.sum(pc.and_(pc.invert(readable), pc.not_equal(text, ""))).as_py() or 0)
            numbers = pc.filter(text, readable)
            try:
                found = pc.sum(numbers.cast(pa.decimal128(38, 9))).as_py()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # more than 9 decimals: add them up exactly
                found = sum((Decimal(str(v)) for v in numbers.to_pylist()), Decimal(0))
        else:
            found = pc.sum(values.cast(pa.decimal128(38, 9))).as_py()
        self.totals[path] = total + (Decimal(found) if found is not None else Decimal(0))

    def verify(self, source: SourceFiles) -> None:
        """Raise, naming every file whose figures differ, before the load publishes anything."""
        malformed = Counter(m.file for m in source.malformed)
        failures = []
        for path in source.files:
            where, record = self._record(path, source)
            count, total = self._figures(record, where)
            found = self.rows[path] + malformed[str(path)]
            problems = []
            if count is not None and count != found:
                problems.append(f"records: expected {count:,}, found {found:,}")
            if total is not None:
                summed = self.totals.get(path, Decimal(0))
                if summed != total:
                    shown = summed.quantize(total) if summed == summed.quantize(total) else summed.normalize()
                    unreadable = self.unreadable[path]
                    note = f" ({unreadable:,} values not readable as numbers)" if unreadable else ""
                    problems.append(f"`{self.control.sum_of}` total: expected {total}, found {shown}{note}")
            if problems:
                failures.append(f"`{path.name}` against its {where}: " + "; ".join(problems))
        if failures:
            raise DataQualityError(
                "the extract does not match its control figures; nothing was published:\n  " + "\n  ".join(failures),
                hint="the file may have been cut short or altered in transit: ask the sender for it again "
                "(see docs/loading.md#control-totals-and-done-flags)",
            )

    def _record(self, path: Path, source: SourceFiles) -> tuple[str, str]:
        if path in self.control_files:
            found, text = self.control_files[path]
            return f"control file `{found.name}`", text
        return "trailer record", source.trailers.get(path, "")

    def _figures(self, record: str, where: str) -> tuple[int | None, Decimal | None]:
        """The record count and control total a trailer or control file states."""
        pattern, named = self.control.pattern(), {}
        if pattern is not None and set(pattern.groupindex) & {"count", "sum"}:
            match = pattern.search(record)
            if match is None:
                raise DataQualityError(f"the {where} does not match `{pattern.pattern}`: {record[:80]!r}")
            named = {k: match.group(k) for k in ("count", "sum") if k in pattern.groupindex}
        line = next((x for x in record.splitlines() if x.strip()), "")
        fields = self._split(line)

        def field(number: int | None, group: str) -> str | None:
            if number is None:
                return named.get(group)
            if number > len(fields):
                raise DataQualityError(
                    f"the {where} has {len(fields)} fields, not {number}: {line[:80]!r}",
                    hint="check control.count_field, control.sum_field and control.separator",
                )
            return fields[number - 1]

        count_text, sum_text = field(self.control.count_field, "count"), field(self.control.sum_field, "sum")
        count = total = None
        if count_text is not None:
            if not re.fullmatch(r"\s*\+?[0-9]+\s*", count_text):
                raise DataQualityError(f"the record count in the {where} is not a number: {count_text!r}")
            count = int(count_text)
        if sum_text is not None:
            try:
                total = Decimal(self.normalise(sum_text))
            except InvalidOperation as e:
                raise DataQualityError(f"the control total in the {where} is not a number: {sum_text!r}") from e
        return count, total

    def _split(self, line: str) -> list[str]:
        separator = self.control.separator or self.delimiter
        if separator is None:
            separator = next((s for s in _SEPARATORS if s in line), None)
        return [f.strip().strip('"') for f in (line.split(separator) if separator else line.split())]
