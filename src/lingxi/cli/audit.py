"""`lingxi audit ...`: check the audit log's keyed chain, checkpoint its head, export checkpoints, read entries.

`verify` exits 0 with the number of entries, the head hash and the checkpoints it checked when all holds,
and 1 with one line (`error: ...`) naming the first problem otherwise, so it can run from cron or a
monitoring job. `checkpoint` appends a signed checkpoint of the head to the checkpoint file (for cron on
an installation without a server); `checkpoints` prints them as JSON lines for a SIEM.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from lingxi.auth import audit, checkpoints
from lingxi.cli.context import checkpoint, console, err_console, friendly_errors, keyring, open_lake, settings
from lingxi.errors import ConfigError

audit_app = typer.Typer(help="Check and read the tamper-evident audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@friendly_errors
def verify() -> None:
    """Check the keyed chain and the checkpoints; exit 1 with one line naming the first problem."""
    with open_lake() as lake:
        report = audit.verify(lake.store, keyring().audit, checkpoint_file=settings().audit_checkpoint_path)
    if not report.ok:
        seq, count = report.broken_seq, report.count
        where = "" if seq is None else f" (first bad entry: {seq}; {count:,} entries before it are intact)"
        err_console.print(
            f"[bold red]error:[/] audit log broken: {escape(report.problem or '')}{where}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    latest = report.latest
    marks = (
        f"{report.checkpoints:,} checkpoints checked, the newest saw entry {latest.seq} ({latest.at})"
        if latest
        else "no checkpoint yet (`lingxi audit checkpoint` writes one)"
    )
    unkeyed = f"; the first {report.unkeyed:,} from before audit keys" if report.unkeyed else ""
    console.print(
        f"[green]intact[/] {report.count:,} audit entries{unkeyed}; head hash {report.head_hash}; {marks}",
        soft_wrap=True,
    )


@audit_app.command("checkpoint")
@friendly_errors
def checkpoint_command() -> None:
    """Append a signed checkpoint of the chain's head to the checkpoint file (run it from cron)."""
    with open_lake() as lake:
        written = checkpoint(lake.store)
    path = settings().audit_checkpoint_path
    if written is None:
        console.print(
            f"nothing to checkpoint: the head has not moved since the last checkpoint in {path}", soft_wrap=True
        )
        return
    console.print(f"checkpoint of entry {written.seq} ({written.entry_hash}) appended to {path}", soft_wrap=True)


@audit_app.command("checkpoints")
@friendly_errors
def checkpoints_command() -> None:
    """Print the checkpoints as JSON lines, oldest first, for a SIEM (which may also tail the file)."""
    for _, line in checkpoints.lines(settings().audit_checkpoint_path):
        print(line)  # noqa: T201 - machine output


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
