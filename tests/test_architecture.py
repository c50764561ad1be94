"""Layering rules from STYLE.md, checked on every module's imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
