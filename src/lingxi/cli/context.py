"""What every command needs: settings, the operational store, the lake, and error reporting."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from lingxi import registry
from lingxi.auth import audit, checkpoints
from lingxi.auth.checkpoints import Checkpoint
from lingxi.config import Settings
from lingxi.errors import ConfigError, LingxiError
from lingxi.keys import Keyring
from lingxi.store import Lake, connect, require_migrated

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class State:
    debug: bool = False
    settings: Settings | None = None
    data_dir: Path | None = None
    keyring: Keyring | None = None


STATE = State()


def settings() -> Settings:
    if STATE.settings is None:
        try:
            STATE.settings = Settings() if STATE.data_dir is None else Settings(data_dir=STATE.data_dir)
        except ValidationError as e:
            raise settings_error(e) from e
        registry.configure(STATE.settings.capabilities)
    return STATE.settings


def keyring() -> Keyring:
    """The installation's keys (read once per command); a ConfigError says how to create them."""
    if STATE.keyring is None:
        STATE.keyring = settings().keyring()
    return STATE.keyring


def settings_error(e: ValidationError) -> ConfigError:
    """The first problem of the settings as a ConfigError.

    A setting with a closed set of values (LINGXI_ENGINE, LINGXI_ENVIRONMENT) gets one line that names the
    value given and the values allowed; any other problem the validator's message and where to read more.
    """
    first = e.errors()[0]
    variable = "LINGXI_" + ".".join(str(p) for p in first["loc"]).upper()
    if first["type"] in ("literal_error", "enum"):
        allowed = first.get("ctx", {}).get("expected", "")
        return ConfigError(
            f"setting `{variable}` is {first['input']!r}; allowed values: {allowed} (see docs/reference/settings.md)"
        )
    return ConfigError(
        f"setting `{variable}` is invalid: {first['msg']}",
        hint="fix the environment variable (see docs/reference/settings.md)",
    )


@contextmanager
def open_lake(*, migrated: bool = True) -> Iterator[Lake]:
    """The lake and the operational store for one command.

    Audit entries the command writes are signed with the keyring's audit key (read when the first one
    is written), and a command that wrote any leaves a checkpoint of the chain's head behind, so a CLI-only
    installation is anchored without a server (lingxi.auth.checkpoints).
    """
    s = settings()
    store = connect(s.resolved_database_url)
    audit.bind_keys(store, lambda: keyring().audit)
    try:
        start = None
        if migrated:
            require_migrated(store)
            start = checkpoints.head(store)
        yield Lake(s.lake_dir, store)
        if start is not None and checkpoints.head(store) != start:
            try:
                checkpoint(store)
            except (OSError, LingxiError) as e:  # the command's work is done and audited: warn, do not fail it
                err_console.print(f"[yellow]warning:[/] audit checkpoint not written: {escape(str(e))}")
    finally:
        store.dispose()


def checkpoint(store: Engine) -> Checkpoint | None:
    """Append a signed checkpoint of the audit chain's head to the checkpoint file, unless it has not moved."""
    path = settings().audit_checkpoint_path
    return checkpoints.write(store, path, keyring().audit, last=checkpoints.last(path))


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report a LingxiError as one readable message and exit 1; a traceback only with --debug."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LingxiError as e:
            if STATE.debug:
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, click.exceptions.ClickException):  # a command's own exit code or message
            raise
        except Exception as e:  # an unexpected failure still gets one line, and the way to see more
            if STATE.debug:
                raise
            err_console.print(
                f"[bold red]error:[/] unexpected {type(e).__name__}: {escape(str(e))}\n"
                "  hint: run again with `lingxi --debug ...` for the traceback, and report it",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def operator() -> str:
    """The actor the audit log records for a command run by hand: `cli:<os user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (some containers)
        return "cli:unknown"


def is_interactive() -> bool:
    return sys.stderr.isatty()
