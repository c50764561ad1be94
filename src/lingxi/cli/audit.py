"""`lingxi audit verify` and `lingxi audit tail`: check the audit log's hash chain and read its latest entries.

`verify` exits 0 with the number of entries and the head hash when the chain is intact, and 1 naming
the first broken entry otherwise, so it can run from cron or a monitoring job. Operators who note the
head hash elsewhere (a ticket, another system) can later prove the log was not rewritten wholesale.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from lingxi.auth import audit
from lingxi.cli.context import console, err_console, friendly_errors, open_lake
from lingxi.errors import ConfigError

audit_app = typer.Typer(help="Check and read the tamper-evident audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@friendly_errors
def verify() -> None:
    """Check the hash chain; exit 1 naming the first entry that was changed or removed."""
    with open_lake() as lake:
        report = audit.verify(lake.store)
    if report.ok:
        console.print(f"[green]intact[/] {report.count:,} audit entries; head hash {report.head_hash}", soft_wrap=True)
        return
    err_console.print(
        f"[bold red]broken[/] audit log: {escape(report.problem or '')} "
        f"(first bad entry: {report.broken_seq}; {report.count:,} entries before it are intact)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@audit_app.command("tail")
@friendly_errors
def tail(
    n: Annotated[int, typer.Option("-n", "--lines", help="How many of the latest entries.", min=1, max=1000)] = 20,
    action: Annotated[str | None, typer.Option("--action", help="Only this action (core or a capability's).")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Only this target (customer id, username).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show the latest audit entries, newest last."""
    if action is not None and action not in audit.known_actions():
        raise ConfigError(f"unknown audit action `{action}`", hint=f"actions: {', '.join(audit.known_actions())}")
    q = audit.AuditQuery(actor=actor, action=action, target=target, limit=n)
    with open_lake() as lake:
        entries = list(reversed(audit.search(lake.store, q)))
    if as_json:
        for e in entries:
            print(json.dumps(e.as_dict(), ensure_ascii=False, sort_keys=True))  # noqa: T201 - machine output
        return
    if not entries:
        console.print("no audit entries")
        return
    table = RichTable(title="Audit log (latest, times in UTC)", title_justify="left")
    for col in ("seq", "at", "who", "action", "target", "result", "fields, reason, detail"):
        table.add_column(col, overflow="fold")
    for e in entries:
        who = e.actor + (f" ({e.role}{'@' + e.branch_id if e.branch_id else ''})" if e.role else "")
        note = "; ".join(x for x in (",".join(e.fields), e.reason, e.detail) if x)
        cells = [who, e.action, e.target or "", e.result, note]
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", *(escape(c) for c in cells))
    console.print(table)
