"""Finding the capabilities: every `lingxi/<folder>/capability.py`, plus plug-ins from outside Lingxi.

A capability is found, never listed: the registry imports `lingxi.<folder>.capability` for each folder of
the package that has one, then each package named in `LINGXI_CAPABILITIES` (comma-separated import paths,
for a bank's own capability or a test fixture) and each entry point of the group `lingxi.capabilities`.
Each such module defines `CAPABILITY`, a lingxi.capability.Capability. The app, the CLI, the pipeline, the
authorisation matrix, the audit log and data-subject requests read the declarations from here.

Importing is dynamic (importlib) on purpose: this module is at the base of the layers and must not import
the capabilities above it statically; the architecture test checks the static imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING

from lingxi.capability import Capability, LakeHolding, NavEntry, PermissionGrant, Served, Stage, StoreHolding
from lingxi.errors import ConfigError, SpecError

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

ENV_VAR = "LINGXI_CAPABILITIES"
ENTRY_POINT_GROUP = "lingxi.capabilities"
_ROOT = "lingxi"


def _load(package: str) -> Capability:
    module_name = f"{package}.capability"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if not e.name or not (module_name == e.name or module_name.startswith(e.name + ".")):
            raise  # the package exists, and something it imports is missing: its own bug
        missing = "has no `capability.py`" if e.name == module_name else "cannot be imported (no such package)"
        raise ConfigError(
            f"capability package `{package}` {missing}",
            hint=f"check {ENV_VAR} and the `{ENTRY_POINT_GROUP}` entry points",
        ) from e
    declared = getattr(module, "CAPABILITY", None)
    if not isinstance(declared, Capability):
        raise ConfigError(f"`{module_name}` must define CAPABILITY = Capability(...)")
    return replace(declared, package=package)


def _builtin_packages() -> list[str]:
    """Lingxi's folders with a `capability.py`, found by path so that no other package is imported."""
    root = importlib.import_module(_ROOT)
    found = []
    for info in pkgutil.iter_modules(root.__path__):
        if info.ispkg and any(os.path.isfile(os.path.join(p, info.name, "capability.py")) for p in root.__path__):
            found.append(f"{_ROOT}.{info.name}")
    return sorted(found)


@cache
def _entry_point_packages() -> tuple[str, ...]:
    """Installed plug-ins (scanning the installed distributions costs milliseconds: done once)."""
    return tuple(ep.value for ep in entry_points(group=ENTRY_POINT_GROUP))


def _plugin_packages() -> list[str]:
    if _configured is not None:
        named = list(_configured)
    else:
        named = [p.strip() for p in os.environ.get(ENV_VAR, "").split(",") if p.strip()]
    named += _entry_point_packages()
    return list(dict.fromkeys(named))


@cache
def _discover(plugins: tuple[str, ...]) -> tuple[Capability, ...]:
    found = tuple(_load(p) for p in [*_builtin_packages(), *plugins])
    problems = declaration_problems(found)
    if problems:
        raise SpecError("The capability declarations", problems, hint="see docs/concepts/architecture.md")
    return found


def _twice(kind: str, names: list[str]) -> list[str]:
    return [f"{kind} `{n}` is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]


def declaration_problems(found: Sequence[Capability]) -> list[str]:
    """What is wrong with a set of declarations, checked when they are found rather than when first used."""
    problems = _twice("capability", [c.name for c in found])
    problems += _twice("pipeline stage", [s.name for c in found for s in c.stages])
    problems += _twice("permission", [p.name for c in found for p in c.permissions])
    problems += _twice("audit action", [a for c in found for a in c.audit_actions])
    problems += _twice("table", [t.name for c in found for t in c.tables])
    problems += _twice("store holding of table", [h.table for c in found for h in c.store_holdings])
    problems += _twice("lake holding of dataset", [h.dataset for c in found for h in c.lake_holdings])
    problems += _twice("served dataset", [s.dataset for c in found for s in c.served])
    for c in found:
        for grant in c.permissions:
            if not grant.name.startswith(f"{c.name}:"):
                problems.append(f"{c.name}: permission `{grant.name}` must start with `{c.name}:`")
        for h in c.store_holdings:
            where = f"{c.name}: holding `{h.table}`"
            if h.erase == "custom" and (h.export is None or h.eraser is None):
                problems.append(f"{where} is `custom` but lacks its own `export` or `eraser`")
            if h.erase in ("custom", "retain") and not h.why:
                problems.append(f"{where} is `{h.erase}` and must say why in `why`")
            if h.export is not None and h.section == "operational":
                problems.append(f"{where} has its own export, so it needs its own `section` of the export")
    return problems


_configured: list[str] | None = None


def configure(plugins: str | None) -> None:
    """Name the plug-ins from the settings (`Settings.capabilities`) rather than the environment."""
    global _configured
    _configured = None if plugins is None else [p.strip() for p in plugins.split(",") if p.strip()]


def capabilities() -> tuple[Capability, ...]:
    """Every capability: Lingxi's own (by folder name), then plug-ins in the order they are named."""
    return _discover(tuple(_plugin_packages()))


def is_plugin(capability: Capability) -> bool:
    """Whether the capability lives outside the `lingxi` package (its faces then live in its own package)."""
    return not capability.package.startswith(f"{_ROOT}.")


def face_modules(face: str) -> Iterator[ModuleType]:
    """The modules of a face that capabilities contribute: `lingxi.<face>.*` and plug-ins' `<package>.<leaf>`.

    `face` is `api.routes`, `web` or `cli`; a module of the face counts when it defines the face's hook
    (`router` for api.routes and web, `register` for cli), so helpers (web/render.py) are skipped.
    """
    hook = "register" if face == "cli" else "router"
    package = importlib.import_module(f"{_ROOT}.{face}")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.ispkg:
            continue
        module = importlib.import_module(f"{_ROOT}.{face}.{info.name}")
        if hasattr(module, hook):
            yield module
    leaf = {"api.routes": "api", "web": "web", "cli": "cli"}[face]
    for capability in capabilities():
        if is_plugin(capability) and importlib.util.find_spec(f"{capability.package}.{leaf}") is not None:
            module = importlib.import_module(f"{capability.package}.{leaf}")
            if hasattr(module, hook):
                yield module


def stages() -> list[Stage]:
    """Every declared stage, ordered so each runs after the stages it names (ties: declaration order)."""
    declared = [s for c in capabilities() for s in c.stages]
    by_name = {s.name: s for s in declared}
    if len(by_name) != len(declared):
        raise ConfigError("two capabilities declare a pipeline stage of the same name")
    ordered: list[Stage] = []
    visiting: set[str] = set()

    def visit(stage: Stage) -> None:
        if stage in ordered:
            return
        if stage.name in visiting:
            raise ConfigError(f"pipeline stages wait for each other in a cycle through `{stage.name}`")
        visiting.add(stage.name)
        for name in stage.after:
            if name not in by_name:
                raise ConfigError(f"stage `{stage.name}` runs after `{name}`, which no capability declares")
            visit(by_name[name])
        visiting.discard(stage.name)
        ordered.append(stage)

    for stage in declared:
        visit(stage)
    return ordered


def downstream(datasets: Iterable[str]) -> list[str]:
    """Datasets pipeline stages compute, directly or not, from any of `datasets` (their `reads` and `writes`)."""
    found: set[str] = set()
    todo = list(datasets)
    while todo:
        source = todo.pop()
        for stage in stages():
            if source in stage.reads:
                for written in stage.writes:
                    if written not in found:
                        found.add(written)
                        todo.append(written)
    return sorted(found)


def permissions() -> list[PermissionGrant]:
    """Permissions added by capabilities (the core ones are lingxi.auth.roles.Permission)."""
    return [p for c in capabilities() for p in c.permissions]


def audit_actions() -> list[str]:
    """Audit actions added by capabilities (the core ones are lingxi.auth.audit.Action)."""
    return [a for c in capabilities() for a in c.audit_actions]


def nav_entries() -> list[NavEntry]:
    return [n for c in capabilities() for n in c.nav]


def messages() -> dict[str, dict[str, str]]:
    """Console text declared by capabilities (catalogue key -> language -> text)."""
    return {key: dict(texts) for c in capabilities() for key, texts in c.messages.items()}


def tables() -> list[Table]:
    """Every operational-store table a capability declares."""
    return [t for c in capabilities() for t in c.tables]


def metadata() -> list[MetaData]:
    """The MetaData objects of the declared tables, for Alembic (`target_metadata` takes a list)."""
    found: list[MetaData] = []
    for table in tables():
        if all(m is not table.metadata for m in found):
            found.append(table.metadata)
    return found


def migration_locations() -> list[str]:
    """Folders of Alembic revisions that plug-in capabilities bring (their own branches of the one history)."""
    found = []
    for capability in capabilities():
        if capability.migrations:
            spec = importlib.util.find_spec(capability.package)
            if spec is None or not spec.submodule_search_locations:
                raise ConfigError(f"cannot find the folder of capability package `{capability.package}`")
            folder = os.path.join(list(spec.submodule_search_locations)[0], capability.migrations)
            if not os.path.isdir(folder):
                raise ConfigError(
                    f"capability `{capability.name}` names migrations folder `{folder}`, which is missing"
                )
            found.append(folder)
    return found


def store_holdings() -> list[StoreHolding]:
    return [h for c in capabilities() for h in c.store_holdings]


def lake_holdings() -> list[LakeHolding]:
    return [h for c in capabilities() for h in c.lake_holdings]


def served() -> dict[str, Served]:
    """The datasets capabilities ask the serving reader to keep in memory, by name."""
    return {s.dataset: s for c in capabilities() for s in c.served}


def reset() -> None:
    """Forget what was found and any `configure` (tests that change LINGXI_CAPABILITIES)."""
    global _configured
    _configured = None
    _discover.cache_clear()
    _entry_point_packages.cache_clear()
