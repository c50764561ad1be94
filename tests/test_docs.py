"""The docs stay true: generated pages are current, every command and setting is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lingxi.cli.main import app
from lingxi.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_command_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    assert names, "no commands registered"
    missing = [n for n in names if f"lingxi {n}" not in text]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    assert all(f"LINGXI_{name.upper()}" in text for name in Settings.model_fields)


def test_docs_index_links_resolve() -> None:
    import re

    for page in (ROOT / "docs").rglob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_usernames_in_the_docs_examples_are_ones_lingxi_accepts() -> None:
    import re

    from lingxi.auth.users import normalise_username

    examples = [
        (page.relative_to(ROOT), name)
        for page in (ROOT / "docs").rglob("*.md")
        for name in re.findall(r"lingxi user add ([^\s`|]+)", page.read_text(encoding="utf-8"))
        if not name.isupper()  # USERNAME: a placeholder
    ]
    assert examples
    for page, name in examples:
        assert normalise_username(name) == name, f"{page}: `{name}`"  # raises AccountError for a refused name
