"""Layering rules from STYLE.md, checked on every module's imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .architecture import sources_of, violations

SRC = Path(__file__).resolve().parents[1] / "src" / "lingxi"

# library -> folders of src/lingxi allowed to import it
ALLOWED = {
    "fastapi": {"api", "web"},
    "starlette": {"api", "web"},
    "uvicorn": {"api", "cli"},
    "typer": {"cli"},
    "rich": {"cli"},
    "duckdb": {"engine", "identity"},
    "pyspark": {"engine", "identity"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_heavy_and_surface_libraries_stay_in_their_layer() -> None:
    offences = []
    for path in SRC.rglob("*.py"):
        folder = path.relative_to(SRC).parts[0]
        for root in imported_roots(path) & ALLOWED.keys():
            if folder not in ALLOWED[root]:
                offences.append(f"{path.relative_to(SRC)} imports {root}")
    assert not offences, offences


def test_importing_lingxi_does_not_import_pyspark_or_fastapi() -> None:
    code = (
        "import sys, lingxi, lingxi.schema, lingxi.store, lingxi.engine, lingxi.ingest.load; "
        "print(sorted(m for m in ('pyspark', 'fastapi', 'typer') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_layers_hold_for_every_module() -> None:
    assert violations(sources_of()) == []


PLANTED = {
    "a console page importing a route module": (
        "lingxi.web.leads",
        "from lingxi.api.routes.audit import audit_log\n",
        "a console page imports an API route module",
    ),
    "a route module importing another": (
        "lingxi.api.routes.leads",
        "from lingxi.api.routes.consent import record_consent\n",
        "a route module imports another",
    ),
    "a capability importing a face": (
        "lingxi.segments.service",
        "from lingxi.api.deps import requires\n",
        "`segments` may not import `api`",
    ),
    "a capability importing a later one": (
        "lingxi.tags.service",
        "import lingxi.segments.compile\n",
        "`tags` may not import `segments`",
    ),
    "trust importing a capability": ("lingxi.auth.scope", "import lingxi.customers.service\n", "`auth` may not"),
    "the base importing trust": ("lingxi.store.lake", "from lingxi.auth import audit\n", "`store` may not"),
    "a capability importing the synthetic bank": (
        "lingxi.segments.service",
        "from lingxi.sim import generate\n",
        "only the CLI imports the synthetic bank",
    ),
    "a lazy import closing a cycle": (
        "lingxi.api.deps",
        "def page():\n    from lingxi.web.pages import chrome\n",
        "import cycle",
    ),
}


@pytest.mark.parametrize("case", PLANTED)
def test_a_planted_violation_is_caught(case: str) -> None:
    module, source, expected = PLANTED[case]
    sources = sources_of()
    sources[module] = sources.get(module, "") + source
    for name in ("lingxi.web.leads", "lingxi.api.routes.leads", "lingxi.tags.service", "lingxi.segments.compile"):
        sources.setdefault(name, "")  # modules the planted lines name, in case they do not exist yet
    found = violations(sources)
    assert any(expected in line for line in found), found
