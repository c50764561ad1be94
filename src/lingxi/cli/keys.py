"""`lingxi keys`: the data directory's keyring — which keys there are, what uses them, and rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable
from sqlalchemy import func, select

from lingxi.auth import audit
from lingxi.auth.tables import AuditEntry
from lingxi.cli.context import console, friendly_errors, open_lake, operator, settings
from lingxi.errors import ConfigError
from lingxi.keys import KINDS, KeyKind, describe, rotate
from lingxi.privacy.tables import ErasedIdentifier, Erasure

keys_app = typer.Typer(help="The keyring: hash keys and audit keys (docs/security.md).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


def _keyring_file() -> Path:
    path = settings().keyring_path
    if not path.exists():
        raise ConfigError(f"there is no keyring at {path}", hint="run `lingxi init` to create one")
    return path


@keys_app.command("list")
@friendly_errors
def list_keys() -> None:
    """Every key of the keyring (never its secret): kind, id, created, active, and what still uses it."""
    entries = describe(_keyring_file())
    with open_lake() as lake, lake.store.connect() as conn:
        uses: dict[str | None, int] = {}
        for held in (Erasure, ErasedIdentifier, AuditEntry):
            for kid, n in conn.execute(select(held.key_id, func.count()).group_by(held.key_id)).all():
                uses[kid] = uses.get(kid, 0) + int(n)
    table = RichTable(title=f"keyring {settings().keyring_path}", title_justify="left")
    for name in ("kind", "id", "created", "active", "rows using it"):
        table.add_column(name)
    for e in entries:
        used = f"{uses.get(str(e['id']), 0):,}"
        table.add_row(str(e["kind"]), str(e["id"]), str(e["created"]), "yes" if e["active"] else "", used)
    console.print(table)
    if uses.get(None):
        console.print(f"{uses[None]:,} rows predate key ids (matched under every hash key; audit: plain SHA-256)")


@keys_app.command("rotate")
@friendly_errors
def rotate_key(
    kind: Annotated[str, typer.Argument(help="Which key to rotate: `hash` or `audit`.")],
) -> None:
    """Make a new random key of KIND the active one; the old keys stay, so what they made still matches.

    Restart `lingxi serve` afterwards: a running server keeps the keys it started with.
    """
    if kind not in KINDS:
        raise ConfigError(f"KIND is `{kind}`; allowed values: {', '.join(KINDS)}")
    chosen: KeyKind = "hash" if kind == "hash" else "audit"
    path = _keyring_file()
    new_id = rotate(path, chosen)
    with open_lake() as lake:
        audit.record(
            lake.store,
            audit.Action.DEFINITION_CHANGE,
            audit.Who(operator()),
            target=f"keyring:{chosen}",
            detail=f"rotated: new active {chosen} key {new_id}",
        )
    console.print(f"[green]rotated[/] the {chosen} key: {new_id} is active; older keys are kept in {path}")
    console.print("      restart `lingxi serve` so the console uses it")
