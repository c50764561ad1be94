"""The layering rules of DESIGN.md as code: which Lingxi package may import which.

faces (api, web, cli) -> pipeline -> capabilities, in their order -> trust (auth, then privacy) -> base.
Within the capabilities an import goes only downward: ingest -> identity -> tags -> segments -> models ->
decisioning -> campaigns/journeys/channels -> leads -> analytics -> customers (the read side of one
customer, which shows what every other capability knows). Nothing imports `sim` but the CLI (and tests and
benchmarks, outside src/). Besides the layers: a console page never imports an API route module, a route
module never imports another, and no import inside a function (a lazy import) may close a cycle (imports
under `if TYPE_CHECKING:` never run, so they count for the layers but not for cycles).

`violations(sources)` takes {module name: source text}, so tests can plant a violation and watch it fail.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lingxi"

BASE = ("errors", "keys", "config", "redaction", "capability", "registry", "schema", "engine", "store")
TRUST = ("auth", "privacy")
CAPABILITIES = (
    ("ingest",),
    ("identity",),
    ("tags",),
    ("segments",),
    ("models",),
    ("decisioning",),
    ("campaigns", "journeys", "channels"),
    ("leads",),
    ("analytics",),
    ("customers",),
)
FACES = ("api", "web", "cli")


def _ranks() -> dict[str, int]:
    ranks = {name: 0 for name in BASE}
    rank = 1
    for group in [(t,) for t in TRUST] + list(CAPABILITIES) + [("pipeline",), FACES]:
        for name in group:
            ranks[name] = rank
        rank += 1
    ranks["sim"] = 1  # above the base it uses, below what may import it (only the CLI: see `violations`)
    return ranks


RANK = _ranks()


@dataclass(frozen=True)
class Import:
    source: str  # importing module, e.g. lingxi.web.pages
    target: str  # imported module, e.g. lingxi.api.routes.audit
    lazy: bool  # inside a function
    typing_only: bool = False  # under `if TYPE_CHECKING:`: never runs, so it cannot close a cycle


def sources_of(root: Path = SRC) -> dict[str, str]:
    """Every module of the package as {dotted name: source}."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path.read_text(encoding="utf-8")
    return found


def imports_of(module: str, source: str, modules: Collection[str] = ()) -> Iterator[Import]:
    """The Lingxi imports of a module. `from package import submodule` counts as importing the submodule only
    (when `modules` knows it), as Python needs only the package's own imports done, not the importer's."""
    tree = ast.parse(source)
    lazy_nodes = {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(f)
        if isinstance(n, ast.Import | ast.ImportFrom)
    }
    typing_nodes = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for n in ast.walk(block)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = subs if all(s in modules for s in subs) else [node.module, *subs]
        else:
            continue
        for name in names:
            if name == "lingxi" or name.startswith("lingxi."):
                yield Import(module, name, id(node) in lazy_nodes, id(node) in typing_nodes)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(sources: Mapping[str, str]) -> list[str]:
    """Every breach of the rules in the module docstring, as readable lines."""
    found: list[str] = []
    edges: dict[str, set[str]] = {}
    for module, source in sources.items():
        for imp in imports_of(module, source, sources.keys()):
            if imp.target not in sources:  # `from lingxi.x import name` also yields `lingxi.x.name`
                continue
            if not imp.typing_only:
                edges.setdefault(module, set()).add(imp.target)
            src, dst = _package(module), _package(imp.target)
            if not src or not dst or src == dst:
                if module.startswith("lingxi.api.routes.") and imp.target.startswith("lingxi.api.routes."):
                    if imp.target != module:
                        found.append(f"{module} imports {imp.target}: a route module imports another")
                continue
            if dst == "sim" and src != "cli":
                found.append(f"{module} imports {imp.target}: only the CLI imports the synthetic bank")
            elif src in FACES and dst in FACES:
                if src == "web" and imp.target.startswith("lingxi.api.routes"):
                    found.append(f"{module} imports {imp.target}: a console page imports an API route module")
            elif src not in RANK or dst not in RANK:
                unknown = src if src not in RANK else dst
                found.append(f"{module} imports {imp.target}: package `{unknown}` has no place in the layers")
            elif RANK[dst] > RANK[src]:
                found.append(f"{module} imports {imp.target}: `{src}` may not import `{dst}` (layers go downward)")
    found += [f"import cycle: {' -> '.join(c)}" for c in _cycles(edges)]
    return found


def _cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """A cycle of the import graph (lazy imports included), if there is one."""
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as e:
        return [list(e.args[1])]
    return []
