"""The console's navigation: every capability of DESIGN.md, greyed until it exists or the role lacks it.

Entries come from the capabilities' declarations (lingxi.registry); the plan below only fixes the order
and shows, greyed, what is not built yet.

Showing what is not built yet (rather than hiding it) tells a bank's staff what the product will do; a
greyed entry is a span, not a link, so nothing leads to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from lingxi import registry
from lingxi.auth.scope import Principal
from lingxi.capability import NavEntry, Section


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str | None  # None: not built yet
    permission: str | None = None
    status: str = "nav.soon"  # why it is greyed when not built
    match: str | None = None  # active under this path prefix (default: under `href`)

    def active_at(self, path: str) -> bool:
        if self.href is None:
            return False
        prefix = self.match or self.href
        return path == self.href or prefix != "/" and path.startswith(prefix)

    def enabled_for(self, principal: Principal) -> bool:
        return self.href is not None and (self.permission is None or principal.can(self.permission))


#: The console's sections and, in order, every entry planned for them. A capability that exists declares
#: its entry (lingxi.capability.NavEntry) and takes the planned one's place; the rest show greyed.
PLAN: tuple[tuple[Section, str, tuple[str, ...]], ...] = (
    (
        "work",
        "nav.section.work",
        ("nav.home", "nav.customers", "nav.leads", "nav.campaigns", "nav.journeys", "nav.channels"),
    ),
    ("build", "nav.section.build", ("nav.tags", "nav.segments", "nav.models", "nav.decisioning", "nav.analytics")),
    ("govern", "nav.section.govern", ("nav.privacy", "nav.data", "nav.audit", "nav.users")),
)
HOME = NavItem("nav.home", "/")


def sections() -> list[tuple[str, list[NavItem]]]:
    """The sections with their items: planned entries, replaced by declared ones; other declared ones appended."""
    declared: dict[str, NavEntry] = {entry.key: entry for entry in registry.nav_entries()}
    built: list[tuple[str, list[NavItem]]] = []
    for section, title, planned in PLAN:
        items = [HOME if key == HOME.key else _item(declared.get(key), key) for key in planned]
        extra = [e for e in declared.values() if e.section == section and e.key not in planned]
        built.append((title, items + [_item(e, e.key) for e in extra]))
    return built


def _item(entry: NavEntry | None, key: str) -> NavItem:
    return NavItem(key, None) if entry is None else NavItem(entry.key, entry.href, entry.permission, match=entry.match)


def navigation(principal: Principal, path: str) -> list[dict[str, object]]:
    """Sections with their items: label key, link, enabled, active, and why it is greyed."""
    result: list[dict[str, object]] = []
    for title, items in sections():
        entries: list[dict[str, object]] = []
        for item in items:
            enabled = item.enabled_for(principal)
            active = item.active_at(path)
            why = None if enabled else (item.status if item.href is None else "nav.no_permission")
            entries.append({"key": item.key, "href": item.href, "enabled": enabled, "active": active, "why": why})
        result.append({"title": title, "items": entries})
    return result
