"""How a quarantined value is shown, and to whom: raw, masked by the contract, or masked for a principal.

A quarantined row is an input row that failed a check, so it can hold anything the extract held. Three
views, from the most to the least trusted reader:

- `View.raw`: the operator at the machine (`lingxi quarantine show`), who can read the files anyway;
  identifiers the mapping hashes are already cut to their last two characters by the loader;
- `View.for_principal`: a console or API reader. Someone who reads every branch's customers
  (`customer:read_all_branches`) sees what the customer 360 shows them (`lingxi.privacy.masking.mask_record`:
  names and addresses masked, C3 and unknown fields withheld). Anyone else (the admin, a branch-scoped role a
  bank grants the page to) sees every personal column masked and the customer number hidden: a quarantined
  row is not checked against their branch;
- `View.by_contract`: the load summary, printed where anyone may read it: personal and sensitive columns
  (the contract's `personal` and C2/C3 annotations) masked, never raw.

Masking keeps what helps a fix without the value: a number or date keeps its shape (`19781302` is
`99999999`, `-5.00` is `-9.99`), text keeps its first character (`VYBER` as a personal value would be `V****`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.privacy.masking import FIELD_KINDS, mask_record, mask_value
from lingxi.schema.types import Column, Table

Mode = Literal["raw", "contract", "principal"]
WITHHELD = "[withheld]"  # a value the reader may not see at all (unknown or C3 field, a whole malformed line)
SHAPED_TYPES = ("int", "decimal", "rate", "date", "timestamp", "boolean")
_DIGIT = re.compile(r"[0-9]")
_LETTER = re.compile(r"[A-Za-z]")


def shape(value: str) -> str:
    """Digits as 9 and Latin letters as x, the rest kept: `2045-12-31` is `9999-99-99`."""
    return _LETTER.sub("x", _DIGIT.sub("9", value))


def mask_text(value: str) -> str:
    """The first character of a longer value, the rest starred; short values wholly starred."""
    return value[0] + "*" * (len(value) - 1) if len(value) >= 4 else "*" * len(value)


def mask_column_value(column: Column, value: str) -> str:
    """A personal value of `column` masked: by its identifier kind if it has one, else by shape or first letter."""
    kind = FIELD_KINDS.get(column.name)
    if kind is not None:
        return mask_value(kind, value)
    return shape(value) if column.type in SHAPED_TYPES else mask_text(value)


def is_sensitive(column: Column) -> bool:
    return column.personal or column.pi_class != "C1"


@dataclass(frozen=True)
class View:
    """How one reader sees the values of quarantined rows of `table`."""

    table: Table
    mode: Mode
    principal: Principal | None = None
    hide: frozenset[str] = frozenset()  # columns masked although the contract does not call them personal

    @classmethod
    def raw(cls, table: Table) -> View:
        return cls(table, "raw")

    @classmethod
    def by_contract(cls, table: Table) -> View:
        return cls(table, "contract")

    @classmethod
    def for_principal(cls, table: Table, principal: Principal) -> View:
        if principal.can(Permission.CUSTOMER_READ) and principal.can(Permission.CUSTOMER_READ_ALL_BRANCHES):
            return cls(table, "principal", principal)
        return cls(table, "contract", principal, hide=frozenset({"customer_id"}))

    def value(self, name: str, value: Any) -> str | None:
        """How the value of column `name` is shown (None stays None; WITHHELD when it may not be seen)."""
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        if self.mode == "raw":
            return text
        if self.mode == "principal":
            assert self.principal is not None
            shown = mask_record({name: text}, self.table, self.principal).values
            return shown[name] if name in shown else WITHHELD
        column = self._column(name)
        if column is None or column.pi_class == "C3":
            return WITHHELD
        if is_sensitive(column) or name in self.hide:
            return mask_column_value(column, text)
        return text

    def record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A quarantined input row as this reader may see it: withheld fields left out, the rest masked."""
        shown = {name: self.value(name, value) for name, value in row.items()}
        return {name: value for name, value in shown.items() if value != WITHHELD}

    def sensitive_shown(self, names: list[str]) -> list[str]:
        """Which of `names` are personal columns this reader sees unmasked (for the audit entry: names only)."""
        if self.mode == "contract":
            return []
        found = [c.name for n in names if (c := self._column(n)) is not None and is_sensitive(c)]
        if self.mode == "principal":
            found = [n for n in found if n not in FIELD_KINDS]
        return sorted(set(found))

    def _column(self, name: str) -> Column | None:
        try:
            return self.table.column(name)
        except KeyError:
            return None
