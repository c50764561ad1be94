"""The customer read side's declaration: search and the 360 in the navigation, and the datasets they read."""

from __future__ import annotations

from lingxi.auth.roles import Permission
from lingxi.capability import Capability, NavEntry, Served

TRANSACTION_COLUMNS = "txn_id customer_id ts amount currency direction channel category counterparty_type product_id"

CAPABILITY = Capability(
    name="customers",
    description="Customer search, the customer 360 and the dashboard's counts: scoped, masked and audited.",
    nav=(NavEntry("nav.customers", "/customers", "work", Permission.CUSTOMER_READ),),
    # what the 360 and search read per customer: kept in the serving reader's memory, sorted by customer
    served=(
        Served("customers"),
        Served("accounts"),
        Served("holdings"),
        Served("products", order_by=()),
        Served("fx_rates", order_by=("currency", "rate_date")),  # every amount's rate to CNY
        Served("consent_events"),
        Served("transactions", tuple(TRANSACTION_COLUMNS.split())),
        Served("events", ("event_id", "customer_id", "ts", "channel", "event_name")),
    ),
)
