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


# Only these modules may import the DuckDB engine: the engine package itself, the loader (which runs on
# DuckDB beside the analytic engine). Everything else, the console's serving reader included, takes an `Engine`.
DUCKDB_ENGINE_MODULE = "lingxi.engine.duckdb"
DUCKDB_ENGINE_ALLOWED = ("engine/", "ingest/load.py", "ingest/keys.py")


def duckdb_engine_imports(sources: dict[str, str]) -> list[str]:
    """`path: line` of each import of lingxi.engine.duckdb in `sources` (path relative to src/lingxi) not allowed."""
    offences = []
    for path, text in sources.items():
        if path.startswith(DUCKDB_ENGINE_ALLOWED):
            continue
        for node in ast.walk(ast.parse(text)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(n == DUCKDB_ENGINE_MODULE or n.startswith(DUCKDB_ENGINE_MODULE + ".") for n in names):
                offences.append(f"{path}:{node.lineno}")
    return offences


def test_only_the_engine_and_the_loader_import_the_duckdb_engine() -> None:
    planted = {
        "privacy/consent.py": "from lingxi.engine.duckdb import DuckDBEngine\n",
        "pipeline/stages.py": "def f():\n    from lingxi.engine import duckdb\n",
        "cli/load.py": "import lingxi.engine.duckdb as d\n",
        "ingest/load.py": "from lingxi.engine.duckdb import DuckDBEngine\n",
        "store/serving.py": "from lingxi.engine.duckdb import DuckDBEngine\n",
        "api/app.py": "from lingxi.engine import Engine, engine_from\n",
    }
    assert duckdb_engine_imports(planted) == [
        "privacy/consent.py:1",
        "pipeline/stages.py:2",
        "cli/load.py:1",
        "store/serving.py:1",  # the serving reader takes an Engine that has cursors
    ]
    sources = {p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}
    assert not duckdb_engine_imports(sources), "take an `Engine` (lingxi.engine.engine_from) instead"
