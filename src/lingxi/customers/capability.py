"""The customer read side's declaration: the customer search and 360 in the console's navigation."""

from __future__ import annotations

from lingxi.auth.roles import Permission
from lingxi.capability import Capability, NavEntry

CAPABILITY = Capability(
    name="customers",
    description="Customer search, the customer 360 and the dashboard's counts: scoped, masked and audited.",
    nav=(NavEntry("nav.customers", "/customers", "work", Permission.CUSTOMER_READ),),
)
