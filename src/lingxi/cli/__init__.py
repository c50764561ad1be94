"""The `lingxi` command line (Typer + Rich); only this package imports them."""
