"""Which line of the mapping file produced each column: recorded at load time, beside the quarantine.

A quarantined value is easiest to fix where it was mapped (`direction: {source: JYFX}`, a `values:` entry
that lacks a code). The load writes `mapping.json` into the load's quarantine folder: the mapping file's
path, its SHA-256 and, for every entry keyed by a contract column in any section of the file (`columns`,
`values`, and whatever sections a mapping grows), the section, the line number and the text of the lines.
The text is copied because the file may be edited or moved after the load.

It is a file of its own, not a column of `lx_load`, so no migration is needed, and it holds only the
mapping's text: no customer value, so an erasure has nothing to scrub in it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

PROVENANCE_FILE = "mapping.json"
MAX_LINES = 6  # an entry longer than this (a long `values:` list) is cut, with its first line kept


@dataclass(frozen=True)
class MappingLine:
    """One entry of the mapping file: `section.column` at `line` (1-based), with its text."""

    section: str
    column: str
    line: int
    text: str


@dataclass(frozen=True)
class Provenance:
    """The mapping file a load used, and its entries per contract column (empty: no mapping file)."""

    mapping: str | None = None
    sha256: str | None = None
    entries: tuple[MappingLine, ...] = ()

    def lines_for(self, columns: list[str] | tuple[str, ...]) -> list[MappingLine]:
        """The entries that map any of `columns`, in file order."""
        wanted = set(columns)
        return [e for e in self.entries if e.column in wanted]


def mapping_lines(path: Path, columns: list[str]) -> Provenance:
    """The entries of the mapping file at `path` keyed by one of `columns`, with their line numbers.

    A file that cannot be read or parsed gives no entries (the load itself reads it first and reports its
    problems; this runs only after a successful load).
    """
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return Provenance(str(path))
    lines = text.splitlines()
    known = set(columns)
    entries: list[MappingLine] = []
    for section, body in root.value if isinstance(root, yaml.MappingNode) else []:
        if not isinstance(body, yaml.MappingNode):
            continue
        for key, value in body.value:
            if not isinstance(key, yaml.ScalarNode) or key.value not in known:
                continue
            first = key.start_mark.line
            end = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
            last = min(max(end, first), first + MAX_LINES - 1)
            entry_text = "\n".join(lines[first : last + 1])
            entries.append(MappingLine(str(section.value), str(key.value), first + 1, entry_text))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Provenance(str(path.resolve()), digest, tuple(entries))


def write_provenance(folder: Path, path: Path | None, columns: list[str]) -> None:
    """Record the mapping file at `path` (if any) in the quarantine `folder` of a load."""
    if path is None:
        return
    found = mapping_lines(path, columns)
    document = {"mapping": found.mapping, "sha256": found.sha256, "entries": [asdict(e) for e in found.entries]}
    (folder / PROVENANCE_FILE).write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def read_provenance(folder: Path) -> Provenance:
    """What `write_provenance` recorded in `folder`; an empty Provenance when the load used no mapping file."""
    try:
        document = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Provenance()
    entries = tuple(MappingLine(**e) for e in document.get("entries", []))
    return Provenance(document.get("mapping"), document.get("sha256"), entries)
