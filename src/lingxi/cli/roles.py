"""`lingxi roles`: the authorisation matrix as it stands, the core role table and what capabilities grant."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table as RichTable

from lingxi.auth.roles import Role, known_permissions, permissions_of
from lingxi.cli.context import console, friendly_errors


def register(app: typer.Typer) -> None:
    app.command(name="roles")(friendly_errors(roles_command))


def roles_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print role -> permissions as JSON.")] = False,
) -> None:
    """Which role holds which permission: the core table and every capability's grants (plug-ins included)."""
    roles = list(Role)
    if as_json:
        matrix = {r.value: sorted(str(p) for p in permissions_of(r)) for r in roles}
        console.print_json(json.dumps(matrix))
        return
    table = RichTable(title="authorisation matrix (role x permission)", title_justify="left")
    table.add_column("permission")
    for role in roles:
        table.add_column(role.value, justify="center")
    held = {r: permissions_of(r) for r in roles}
    for permission in known_permissions():
        table.add_row(permission, *("✓" if permission in held[r] else "" for r in roles))
    console.print(table)
