"""Entry point of the `lingxi` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lingxi import __version__, registry
from lingxi.cli.context import STATE, console, err_console, friendly_errors, keyring, settings
from lingxi.config import Settings
from lingxi.errors import LingxiError

app = typer.Typer(
    name="lingxi",
    help="Lingxi (灵犀): customer intelligence and operations for retail banks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"lingxi {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", envvar="LINGXI_DATA_DIR", help="Data directory (lake, quarantine, SQLite store)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    STATE.debug = debug
    STATE.settings = None
    STATE.keyring = None
    STATE.data_dir = data_dir


@app.command()
@friendly_errors
def init() -> None:
    """Create the data directory and its keyring, and bring the operational store's schema up to date.

    The keyring (random hash and audit keys, file mode 600) is made once and kept: a second `init`
    never replaces keys that data was hashed or signed with.
    """
    from lingxi.keys import create_file
    from lingxi.store import connect, migrate
    from lingxi.store.db import current_revision

    s: Settings = settings()
    s.lake_dir.mkdir(parents=True, exist_ok=True)
    created = False if (s.hash_key and s.audit_key) else create_file(s.keyring_path)
    keys = keyring()
    store = connect(s.resolved_database_url)
    try:
        migrate(store)
        revision = current_revision(store)
    finally:
        store.dispose()
    url = store.url.render_as_string(hide_password=True)
    console.print(f"[green]ready[/] data directory {s.data_dir.resolve()}")
    console.print(f"      operational store {url} at revision {revision}")
    where = f"{s.keyring_path} ({'created' if created else 'kept'})" if keys.path and keys.path.exists() else "given"
    console.print(f"      keyring {where}: hash key {keys.hash.active_id}, audit key {keys.audit.active_id}")


@app.command()
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (LINGXI_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (LINGXI_PORT).")] = None,
) -> None:
    """Serve the console and the API."""
    import uvicorn

    from lingxi.api.app import create_app

    s = settings()
    keyring()  # refuses to start without keys, before the port is taken
    uvicorn.run(create_app(s), host=host or s.host, port=port or s.port, log_level="info")


# Command groups are found, not listed: every module of lingxi.cli with a `register(app)`, and a plug-in
# capability's own `cli` module (lingxi.registry.face_modules).
try:
    for _module in registry.face_modules("cli"):
        _module.register(app)
except LingxiError as _error:  # a misnamed or broken plug-in: one line, before any command runs
    err_console.print(f"[bold red]error:[/] {escape(str(_error))}", highlight=False, soft_wrap=True)
    raise SystemExit(1) from None

if __name__ == "__main__":
    app()
