"""The personal-information inventory and the third-party sharing list (PIPL arts. 17, 23, 51).

Both are generated, never hand-written: the inventory from the data contract's column annotations
(`personal`, `pi_class`, `purpose`), so a column added to the contract appears here the day it is added;
the sharing list from `SHARING`, declared in code so a new recipient is a reviewed change. The console
renders `inventory()` and `sharing_list()`; `render_markdown` is the same content for the CLI and for a
bank's filing.

`SHARING` is empty by default: Lingxi provides personal information to no one. A bank that shares adds
one `Recipient` per recipient, for example::

    Recipient(
        name="某某保险股份有限公司",
        contact="privacy@insurer.example, 400-000-0000",
        purpose="joint insurance offers to customers who consented to third-party sharing",
        method="SFTP file, encrypted, weekly",
        fields=("customers.name", "customers.phone_hash"),
        consent_purpose="third_party_sharing",
        pia_id="PIA-2026-014",
    )

Every field a recipient gets must be a contract column (`table.column`); `check_sharing` reports the ones
that are not, and a recipient without a PIA id (COMPLIANCE R13: entrusting or providing PI needs one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lingxi.errors import SpecError
from lingxi.schema.contract import TABLES
from lingxi.schema.types import Table

PI_CLASS_MEANING = {
    "C1": "internal, low sensitivity",
    "C2": "personal information, protected (masked on display)",
    "C3": "sensitive authentication data, never displayed",
}


@dataclass(frozen=True)
class InventoryItem:
    """One collected field: where it lives, what it is, how it is classed and why it is processed."""

    table: str
    column: str
    description: str
    pi_class: str
    personal: bool
    purpose: str
    required: bool


@dataclass(frozen=True)
class Recipient:
    """A third party that receives personal information (PIPL art. 23 disclosure)."""

    name: str
    contact: str
    purpose: str
    method: str
    fields: tuple[str, ...]  # "table.column" of the contract
    consent_purpose: str = "third_party_sharing"
    pia_id: str | None = None


#: The declared third-party sharing list. Empty: Lingxi shares personal information with no one.
SHARING: tuple[Recipient, ...] = ()


def inventory(tables: Iterable[Table] | None = None, *, personal_only: bool = True) -> list[InventoryItem]:
    """Every (personal) field of the data contract, table by table, in contract order."""
    items = []
    for table in tables if tables is not None else TABLES.values():
        for col in table.columns:
            if personal_only and not col.personal:
                continue
            items.append(
                InventoryItem(
                    table.name,
                    col.name,
                    col.description,
                    col.pi_class,
                    col.personal,
                    col.purpose or "(not stated)",
                    col.required,
                )
            )
    return items


def check_sharing(recipients: Iterable[Recipient]) -> None:
    """Raise SpecError listing every recipient field that is not a contract column and every missing PIA."""
    problems = []
    for r in recipients:
        if not r.pia_id:
            problems.append(f"recipient `{r.name}`: no PIA id (an impact assessment is required before sharing)")
        for f in r.fields:
            table, _, column = f.partition(".")
            if table not in TABLES or column not in TABLES[table].column_names:
                problems.append(f"recipient `{r.name}`: `{f}` is not a column of the data contract")
    if problems:
        raise SpecError("the third-party sharing list", problems, hint="see docs/privacy.md#inventory")


def sharing_list(recipients: Iterable[Recipient] | None = None) -> list[Recipient]:
    """The declared recipients (checked), for the console's page and the inventory."""
    found = list(SHARING if recipients is None else recipients)
    check_sharing(found)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(items: list[InventoryItem] | None = None, recipients: list[Recipient] | None = None) -> str:
    """The inventory and sharing list as one Markdown page."""
    items = inventory() if items is None else items
    recipients = sharing_list() if recipients is None else recipients
    lines = [
        "# Personal-information inventory",
        "",
        "Generated from the data contract's annotations (`lingxi privacy inventory`). Classes: "
        + "; ".join(f"{k} {v}" for k, v in PI_CLASS_MEANING.items())
        + ".",
        "",
        "| table | field | class | purpose | required | description |",
        "|---|---|---|---|---|---|",
    ]
    for i in items:
        lines.append(
            f"| {i.table} | {i.column} | {i.pi_class} | {_cell(i.purpose)} | "
            f"{'yes' if i.required else 'no'} | {_cell(i.description)} |"
        )
    lines += ["", "## Third-party sharing", ""]
    if not recipients:
        lines.append("Lingxi provides personal information to no third party.")
    else:
        lines += [
            "| recipient | contact | purpose | method | fields | consent | PIA |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in recipients:
            lines.append(
                f"| {_cell(r.name)} | {_cell(r.contact)} | {_cell(r.purpose)} | {_cell(r.method)} | "
                f"{', '.join(r.fields)} | {r.consent_purpose} | {r.pia_id or ''} |"
            )
    return "\n".join(lines) + "\n"
