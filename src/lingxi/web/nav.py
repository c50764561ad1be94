"""The console's navigation: every capability of DESIGN.md, greyed until it exists or the role lacks it.

Showing what is not built yet (rather than hiding it) tells a bank's staff what the product will do; a
greyed entry is a span, not a link, so nothing leads to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str | None  # None: not built yet
    permission: Permission | None = None
    status: str = "nav.soon"  # why it is greyed when not built

    def enabled_for(self, principal: Principal) -> bool:
        return self.href is not None and (self.permission is None or principal.can(self.permission))


SECTIONS: tuple[tuple[str, tuple[NavItem, ...]], ...] = (
    (
        "nav.section.work",
        (
            NavItem("nav.home", "/"),
            NavItem("nav.customers", "/customers", Permission.CUSTOMER_READ),
            NavItem("nav.leads", None),
            NavItem("nav.campaigns", None),
            NavItem("nav.journeys", None),
            NavItem("nav.channels", None),
        ),
    ),
    (
        "nav.section.build",
        (
            NavItem("nav.tags", None),
            NavItem("nav.segments", None),
            NavItem("nav.models", None),
            NavItem("nav.decisioning", None),
            NavItem("nav.analytics", None),
        ),
    ),
    (
        "nav.section.govern",
        (
            NavItem("nav.privacy", "/privacy/inventory"),  # the inventory holds no customer data: every role
            NavItem("nav.data", None),
            NavItem("nav.audit", "/audit", Permission.AUDIT_READ),
            NavItem("nav.users", None),
        ),
    ),
)


def navigation(principal: Principal, path: str) -> list[dict[str, object]]:
    """Sections with their items: label key, link, enabled, active, and why it is greyed."""
    sections: list[dict[str, object]] = []
    for title, items in SECTIONS:
        entries: list[dict[str, object]] = []
        for item in items:
            enabled = item.enabled_for(principal)
            active = item.href is not None and (path == item.href or item.href != "/" and path.startswith(item.href))
            active = active or item.key == "nav.privacy" and path.startswith("/privacy/")
            why = None if enabled else (item.status if item.href is None else "nav.no_permission")
            entries.append({"key": item.key, "href": item.href, "enabled": enabled, "active": active, "why": why})
        sections.append({"title": title, "items": entries})
    return sections
