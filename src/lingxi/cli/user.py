"""`lingxi user ...` and `lingxi token ...`: accounts and API tokens, for the operator who runs Lingxi.

Whoever runs these commands can reach the operational store already, so they act without signing in;
each change is audited with the actor `cli:<os user>`. Passwords are prompted for (hidden, asked
twice) or read from one line of stdin with `--password-stdin`, never taken as an argument, so they do
not land in shell history or the process list.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable
from sqlalchemy import Engine

from lingxi.auth import service
from lingxi.auth.roles import Role
from lingxi.cli.context import console, friendly_errors, open_lake, operator
from lingxi.errors import InputError

user_app = typer.Typer(help="Manage the users who sign in to Lingxi.", no_args_is_help=True)
token_app = typer.Typer(help="Issue and revoke API tokens for machine clients.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


@contextmanager
def _store() -> Iterator[Engine]:
    with open_lake() as lake:
        yield lake.store


def _password(password_stdin: bool, username: str) -> str:
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("no password on stdin", hint="pipe one line: `echo ... | lingxi user add ...`")
        return line
    value: str = typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
    return value


RoleOption = Annotated[Role, typer.Option("--role", help="Role of the user.", case_sensitive=False)]
StdinOption = Annotated[bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")]


@user_app.command("add")
@friendly_errors
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case, 3–64 characters).")],
    role: RoleOption,
    branch: Annotated[str | None, typer.Option("--branch", help="Branch id (required for branch_rm).")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown in the console.")] = None,
    book_only: Annotated[
        bool, typer.Option("--book-only", help="Limit the user to customers assigned to them.")
    ] = False,
    password_stdin: StdinOption = False,
) -> None:
    """Create a user (asks for the password)."""
    password = _password(password_stdin, username)
    with _store() as store:
        info = service.create_user(
            store,
            username,
            password,
            role,
            by=operator(),
            branch_id=branch,
            display_name=display_name,
            book_only=book_only,
        )
    console.print(f"[green]created[/] {escape(info.username)} ({info.role.value}, branch {info.branch_id or '-'})")


@user_app.command("disable")
@friendly_errors
def disable(username: Annotated[str, typer.Argument(help="User to disable.")]) -> None:
    """Disable a user: their sessions end and their API tokens are revoked."""
    with _store() as store:
        info = service.disable_user(store, username, by=operator())
    console.print(f"[yellow]disabled[/] {escape(info.username)}; sessions ended, tokens revoked")


@user_app.command("enable")
@friendly_errors
def enable(username: Annotated[str, typer.Argument(help="User to enable again.")]) -> None:
    """Enable a disabled user (old API tokens stay revoked)."""
    with _store() as store:
        info = service.enable_user(store, username, by=operator())
    console.print(f"[green]enabled[/] {escape(info.username)}")


@user_app.command("reset")
@friendly_errors
def reset(
    username: Annotated[str, typer.Argument(help="User whose password to set.")], password_stdin: StdinOption = False
) -> None:
    """Set a new password (asks for it), clear a lock-out and end the user's sessions."""
    password = _password(password_stdin, username)
    with _store() as store:
        info = service.reset_password(store, username, password, by=operator())
    console.print(f"[green]password reset[/] for {escape(info.username)}; their sessions have ended")


@user_app.command("unlock")
@friendly_errors
def unlock(username: Annotated[str, typer.Argument(help="User whose lock-out to end.")]) -> None:
    """End a lock-out now and reset its back-off (password and sessions unchanged)."""
    with _store() as store:
        info = service.unlock_user(store, username, by=operator())
    console.print(f"[green]unlocked[/] {escape(info.username)}")


@user_app.command("list")
@friendly_errors
def list_command() -> None:
    """List the users with their role, branch and status."""
    with _store() as store:
        users = service.list_users(store)
    if not users:
        console.print("no users yet: `lingxi user add USERNAME --role admin`")
        return
    table = RichTable(title="Lingxi users", title_justify="left")
    for name in ("username", "name", "role", "branch", "status", "last sign-in"):
        table.add_column(name)
    for u in users:
        status = u.status if u.locked_until is None else f"{u.status}, locked until {u.locked_until:%m-%d %H:%M}Z"
        table.add_row(
            escape(u.username),
            escape(u.display_name),
            u.role.value,
            escape(u.branch_id or "-") + (" (book)" if u.book_only else ""),
            status,
            f"{u.last_login_at:%Y-%m-%d %H:%M}Z" if u.last_login_at else "-",
        )
    console.print(table)


@token_app.command("issue")
@friendly_errors
def issue(
    username: Annotated[str, typer.Argument(help="User the token acts for.")],
    scope: Annotated[list[str], typer.Option("--scope", help="Permission the token carries (repeatable).")],
    expires_days: Annotated[int, typer.Option("--expires-days", help="Days until the token expires.")] = 90,
    name: Annotated[str, typer.Option("--name", help="What the token is for (shown in lists).")] = "api",
) -> None:
    """Issue an API token; the secret is printed once and cannot be shown again."""
    with _store() as store:
        issued = service.issue_token(
            store, username, scope, by=operator(), name=name, expires_in=timedelta(days=expires_days)
        )
    info = issued.info
    console.print(f"token [bold]{info.id}[/] for {escape(info.username)}, scopes {', '.join(info.scopes)}")
    console.print(f"expires {info.expires_at:%Y-%m-%d %H:%M}Z; store the secret now, it is not shown again:")
    print(issued.secret)  # noqa: T201 - plain stdout so it can be piped into a secret store


@token_app.command("revoke")
@friendly_errors
def revoke(token_id: Annotated[str, typer.Argument(help="Token id (from `lingxi token list`).")]) -> None:
    """Revoke an API token at once."""
    with _store() as store:
        info = service.revoke_token(store, token_id, by=operator())
    console.print(f"[yellow]revoked[/] token {escape(info.id)} of {escape(info.username)}")


@token_app.command("list")
@friendly_errors
def token_list(username: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None) -> None:
    """List API tokens (never their secrets)."""
    with _store() as store:
        tokens = service.list_tokens(store, username)
    table = RichTable(title="API tokens", title_justify="left")
    for col in ("id", "user", "name", "scopes", "expires", "state"):
        table.add_column(col)
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        table.add_row(t.id, escape(t.username), escape(t.name), ", ".join(t.scopes), f"{t.expires_at:%Y-%m-%d}", state)
    console.print(table)
