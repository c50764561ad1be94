"""The bank data contract: the canonical tables every capability reads.

Version numbers change when a column is added, removed or changes meaning; docs/data-contract.md is
generated from these definitions (`python scripts/gen_contract_docs.py`) and a test keeps it current.
"""

from __future__ import annotations

from lingxi.schema.types import Column, Partition, Table

RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
PRODUCT_RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")
PRODUCT_TYPES = (
    "deposit",
    "time_deposit",
    "wealth",
    "fund",
    "insurance",
    "pension",
    "loan",
    "credit_card",
)
ACCOUNT_TYPES = ("current", "savings", "time_deposit", "debit_card", "credit_card", "loan", "investment")
ACCOUNT_STATUSES = ("active", "dormant", "closed")
TXN_CHANNELS = ("counter", "atm", "app", "web", "wechat", "pos", "third_party", "batch")
TXN_CATEGORIES = (
    "salary",
    "transfer_in",
    "transfer_out",
    "consumption",
    "purchase",
    "redemption",
    "interest",
    "fee",
    "repayment",
    "loan_disbursement",
    "cash_deposit",
    "cash_withdrawal",
    "other",
)
COUNTERPARTY_TYPES = ("own_account", "same_bank", "other_bank", "merchant", "employer", "government", "unknown")
EVENT_CHANNELS = ("app", "mini_program", "wechat", "web")
IDENTITY_TYPES = (
    "app_user_id",
    "wechat_openid",
    "wechat_unionid",
    "mini_program_openid",
    "phone_hash",
    "id_no_hash",
    "email_hash",
    "device_id",
)
CONSENT_PURPOSES = ("marketing", "personalisation", "third_party_sharing")
CONSENT_CHANNELS = ("all", "sms", "push", "email", "wechat", "call")
CONSENT_STATUSES = ("granted", "withdrawn")

_CUSTOMER_REF = "customers.customer_id"
#: The largest plausible single amount or balance (10 billion): a larger one is a unit or decimal-point error.
MAX_AMOUNT = 10_000_000_000
_HASH_PATTERN = r"^[0-9a-f]{64}$"
_CURRENCY_PATTERN = r"^[A-Z]{3}$"
#: The bank's own currency: amounts in it need no rate (it is 1), every other currency needs `fx_rates`.
CNY = "CNY"


def _customer_id(required: bool = True) -> Column:
    return Column(
        "customer_id",
        "string",
        "The bank's customer number (CIF), the one id of a customer across Lingxi.",
        "C000012345",
        required=required,
        references=_CUSTOMER_REF,
    )


CUSTOMERS = Table(
    name="customers",
    version=1,
    description="One row per customer (full extract; each load replaces the previous snapshot).",
    key=("customer_id",),
    columns=(
        Column("customer_id", "string", "The bank's customer number (CIF).", "C000012345", required=True),
        Column("branch_id", "string", "Branch that owns the customer relationship.", "BR0101", required=True),
        Column(
            "name",
            "string",
            "Full name; shown masked (surname only) unless the role may unmask it.",
            "张三",
            pi_class="C2",
            personal=True,
            purpose="addressing the customer in service and marketing messages",
            correctable=True,
        ),
        Column(
            "birth_date",
            "date",
            "Date of birth (drives age-based suitability and elderly-customer rules).",
            "1978-04-02",
            max_age_years=120,
            pi_class="C2",
            personal=True,
            purpose="age-based suitability and elderly-customer protection",
            correctable=True,
        ),
        Column(
            "gender",
            "string",
            "M, F or U (unknown).",
            "F",
            allowed=("M", "F", "U"),
            personal=True,
            purpose="segment analytics",
            correctable=True,
        ),
        Column(
            "city",
            "string",
            "City of residence.",
            "杭州",
            personal=True,
            purpose="branch routing, analytics",
            correctable=True,
        ),
        Column(
            "city_tier",
            "int",
            "City tier 1–4 (1 = Beijing, Shanghai, Guangzhou, Shenzhen).",
            2,
            allowed=("1", "2", "3", "4"),
        ),
        Column(
            "occupation",
            "string",
            "Occupation as recorded at onboarding.",
            "teacher",
            personal=True,
            purpose="suitability and analytics",
            correctable=True,
        ),
        Column("onboarded_at", "timestamp", "When the customer relationship began.", "2015-06-01 09:30:00"),
        Column(
            "risk_level",
            "string",
            "Risk tolerance from the latest suitability assessment, C1 (conservative) to C5 (aggressive).",
            "C3",
            allowed=RISK_LEVELS,
            pi_class="C2",
            personal=True,
            purpose="investor suitability (适当性管理)",
        ),
        Column(
            "risk_assessed_at",
            "timestamp",
            "When the risk assessment was taken (valid 12 months).",
            "2026-02-11 10:02:00",
        ),
        Column(
            "id_no_hash",
            "string",
            "Keyed SHA-256 (HMAC) of the normalised ID-card number; the number itself never enters the lake.",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            pattern=_HASH_PATTERN,
            pi_class="C2",
            personal=True,
            purpose="identity resolution",
            correctable=True,
        ),
        Column(
            "phone_hash",
            "string",
            "Keyed SHA-256 (HMAC) of the normalised mobile number (11 digits, no +86).",
            "3c9909afec25354d551dae21590bb26e38d53f2173b8d3dc3eee4c047e7ab1c1",
            pattern=_HASH_PATTERN,
            pi_class="C2",
            personal=True,
            purpose="identity resolution, matching opt-out replies",
            correctable=True,
        ),
        Column(
            "address",
            "string",
            "Home address; shown to district level unless the role may unmask it.",
            "浙江省杭州市西湖区文三路 1 号",
            pi_class="C2",
            personal=True,
            purpose="service correspondence",
            correctable=True,
        ),
        Column("status", "string", "Relationship status.", "active", allowed=ACCOUNT_STATUSES),
        Column(
            "is_vulnerable",
            "boolean",
            "Flagged as vulnerable (e.g. needs assistance); excluded from proactive high-risk offers.",
            False,
            pi_class="C2",
            personal=True,
            purpose="customer protection",
        ),
    ),
)

ACCOUNTS = Table(
    name="accounts",
    version=1,
    description="One row per account or card (full extract).",
    key=("account_id",),
    columns=(
        Column(
            "account_id",
            "string",
            "The bank's internal account key (not the account number).",
            "A00000001",
            required=True,
        ),
        _customer_id(),
        Column("type", "string", "Kind of account.", "debit_card", required=True, allowed=ACCOUNT_TYPES),
        Column("branch_id", "string", "Branch where the account was opened.", "BR0101"),
        Column(
            "account_no_hash",
            "string",
            "Keyed SHA-256 (HMAC) of the account or card number.",
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            pattern=_HASH_PATTERN,
            pi_class="C2",
            personal=True,
            purpose="matching payments and statements",
        ),
        Column(
            "account_no_last4",
            "string",
            "Last four digits, for display.",
            "1234",
            pattern=r"^[0-9]{4}$",
            pi_class="C2",
            personal=True,
            purpose="display",
        ),
        Column("currency", "string", "ISO 4217 currency code.", "CNY", pattern=_CURRENCY_PATTERN),
        Column("opened_at", "timestamp", "When the account was opened.", "2019-03-14 11:00:00"),
        Column("closed_at", "timestamp", "When the account was closed, if it was.", None),
        Column("status", "string", "Account status.", "active", allowed=ACCOUNT_STATUSES),
    ),
)

PRODUCTS = Table(
    name="products",
    version=1,
    description="The product shelf (full extract).",
    key=("product_id",),
    sort_by=("product_id",),
    columns=(
        Column("product_id", "string", "Product code.", "WM2026001", required=True),
        Column("name", "string", "Product name as shown to customers.", "稳健理财 90 天", required=True),
        Column("type", "string", "Product family.", "wealth", required=True, allowed=PRODUCT_TYPES),
        Column(
            "risk_level",
            "string",
            "Product risk rating, R1 (lowest) to R5.",
            "R2",
            required=True,
            allowed=PRODUCT_RISK_LEVELS,
        ),
        Column("min_amount", "decimal", "Minimum purchase amount in CNY.", 10000, min_value=0),
        Column("term_days", "int", "Term in days (0 for open-ended).", 90, min_value=0),
        Column("sale_start", "date", "First day of the sale window.", "2026-01-05", may_be_future=True),
        Column(
            "sale_end", "date", "Last day of the sale window (empty: on sale indefinitely).", None, may_be_future=True
        ),
        Column("currency", "string", "ISO 4217 currency code.", "CNY", pattern=_CURRENCY_PATTERN),
        Column("issuer", "string", "Issuer (the bank, its wealth subsidiary, a fund house, an insurer).", "XX理财"),
    ),
)

HOLDINGS = Table(
    name="holdings",
    version=2,  # 2: `currency`
    description="Balance of each customer in each product at the end of a snapshot date (appended per date).",
    key=("snapshot_date", "customer_id", "product_id"),
    mode="append",
    partition=Partition("snapshot_month", "snapshot_date", "month"),
    fx_date="snapshot_date",
    columns=(
        Column("snapshot_date", "date", "Business date of the balance.", "2026-10-31", required=True),
        _customer_id(),
        Column("product_id", "string", "Product held.", "WM2026001", required=True, references="products.product_id"),
        Column(
            "balance",
            "decimal",
            "Balance in `currency` (loans and card debt as positive amounts owed); AUM converts it to CNY at the "
            "`fx_rates` rate of `snapshot_date`.",
            125000.50,
            required=True,
            max_value=MAX_AMOUNT,
            pi_class="C2",
            personal=True,
            purpose="AUM tiers, suitability",
        ),
        Column(
            "currency",
            "string",
            "ISO 4217 currency of the balance; empty: the product's currency, CNY when that is empty too.",
            "USD",
            pattern=_CURRENCY_PATTERN,
            default_from="products.currency",
        ),
    ),
)

TRANSACTIONS = Table(
    name="transactions",
    version=2,  # 2: `currency`
    description="Monetary transactions (appended daily).",
    key=("txn_id",),
    mode="append",
    partition=Partition("txn_month", "ts", "month"),
    fx_date="ts",
    columns=(
        Column("txn_id", "string", "Unique transaction id (journal number).", "T20261101000001", required=True),
        _customer_id(),
        Column(
            "account_id", "string", "Account the transaction posted to.", "A00000001", references="accounts.account_id"
        ),
        Column(
            "ts", "timestamp", "Posting time, bank local time (Asia/Shanghai).", "2026-11-01 08:15:00", required=True
        ),
        Column(
            "amount",
            "decimal",
            "Amount in `currency`, always positive; see direction. Shown in CNY at the `fx_rates` rate of its day.",
            8500.00,
            required=True,
            min_value=0,
            max_value=MAX_AMOUNT,
            pi_class="C2",
            personal=True,
            purpose="behaviour features",
        ),
        Column(
            "direction",
            "string",
            "credit (money in) or debit (money out).",
            "credit",
            required=True,
            allowed=("credit", "debit"),
        ),
        Column("channel", "string", "Where the transaction was made.", "app", allowed=TXN_CHANNELS),
        Column("category", "string", "What the transaction was.", "salary", allowed=TXN_CATEGORIES),
        Column("counterparty_type", "string", "Who was on the other side.", "employer", allowed=COUNTERPARTY_TYPES),
        Column("product_id", "string", "Product bought or redeemed, if any.", None, references="products.product_id"),
        Column(
            "currency",
            "string",
            "ISO 4217 currency of the amount; empty: the account's currency, CNY when that is empty too (or "
            "without an account).",
            "CNY",
            pattern=_CURRENCY_PATTERN,
            default_from="accounts.currency",
        ),
    ),
)

FX_RATES = Table(
    name="fx_rates",
    version=1,
    description=(
        "Exchange rates to CNY by business date (appended; e.g. the CFETS central parity or the bank's own "
        "middle rate). An amount uses the latest rate of its currency on or before its date, so a weekend or "
        "a holiday takes the last business day's; CNY is always 1 and needs no row (one is loaded but not used)."
    ),
    key=("rate_date", "currency"),
    mode="append",
    sort_by=("currency", "rate_date"),
    columns=(
        Column("rate_date", "date", "Business date the rate was published for.", "2026-10-30", required=True),
        Column("currency", "string", "ISO 4217 currency code.", "USD", required=True, pattern=_CURRENCY_PATTERN),
        Column(
            "rate",
            "rate",
            "CNY for one unit of the currency (7.1234 for a US dollar; 0.047123 for a yen, not per 100).",
            7.1234,
            required=True,
            min_value=0.000001,  # > 0: the smallest positive rate of six decimals
        ),
        Column("source", "string", "Where the rate comes from.", "CFETS central parity"),
    ),
)

EVENTS = Table(
    name="events",
    version=1,
    description="Behaviour events from the app, mini-program, WeChat and web (appended daily).",
    key=("event_id",),
    mode="append",
    partition=Partition("event_date", "ts", "day"),
    any_of=(("customer_id", "anonymous_id"),),
    columns=(
        Column("event_id", "string", "Unique event id set by the sender (idempotency key).", "e-7f3a2c", required=True),
        Column("ts", "timestamp", "When the event happened, bank local time.", "2026-11-01 20:31:07", required=True),
        _customer_id(required=False),
        Column("anonymous_id", "string", "Device or cookie id for events before login.", "anon-5521"),
        Column("channel", "string", "Touchpoint.", "app", required=True, allowed=EVENT_CHANNELS),
        Column(
            "event_name",
            "string",
            "What happened (see the tracking plan).",
            "product_view",
            required=True,
            pattern=r"^[a-z][a-z0-9_]*$",
        ),
        Column("properties", "json", "Event properties as a JSON object.", '{"product_id": "WM2026001"}'),
        Column("session_id", "string", "Session the event belongs to.", "s-88121"),
        Column("device_id", "string", "Device identifier.", "d-4410", personal=True, purpose="identity resolution"),
    ),
)

IDENTITIES = Table(
    name="identities",
    version=1,
    description="Identifiers a customer is known by across channels (full extract).",
    key=("customer_id", "id_type", "id_value"),
    columns=(
        _customer_id(),
        Column("id_type", "string", "Kind of identifier.", "wechat_unionid", required=True, allowed=IDENTITY_TYPES),
        Column(
            "id_value",
            "string",
            "The identifier (hashed for phone, ID number and e-mail).",
            "oUn1d-2b7c",
            required=True,
            pi_class="C2",
            personal=True,
            purpose="identity resolution",
        ),
        Column("source", "string", "System that reported the link.", "wechat_bind"),
        Column("first_seen_at", "timestamp", "First time the link was seen.", "2024-05-01 10:00:00"),
        Column("last_seen_at", "timestamp", "Latest time the link was seen.", "2026-10-30 19:00:00"),
    ),
)

CONSENT_EVENTS = Table(
    name="consent_events",
    version=1,
    description="Consent grants and withdrawals recorded before Lingxi (history extract, appended).",
    key=("consent_event_id",),
    mode="append",
    columns=(
        Column("consent_event_id", "string", "Unique id of the grant or withdrawal.", "CE000001", required=True),
        _customer_id(),
        Column("purpose", "string", "What the consent is for.", "marketing", required=True, allowed=CONSENT_PURPOSES),
        Column(
            "channel",
            "string",
            "Channel it covers (all = every channel).",
            "sms",
            required=True,
            allowed=CONSENT_CHANNELS,
        ),
        Column("status", "string", "granted or withdrawn.", "granted", required=True, allowed=CONSENT_STATUSES),
        Column("ts", "timestamp", "When the customer gave or withdrew it.", "2025-01-03 12:00:00", required=True),
        Column("source", "string", "Where it was captured (app, branch, call centre, SMS reply).", "app"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (CUSTOMERS, ACCOUNTS, PRODUCTS, FX_RATES, HOLDINGS, TRANSACTIONS, EVENTS, IDENTITIES, CONSENT_EVENTS)
}

# Load order that satisfies every reference.
LOAD_ORDER = (
    "customers",
    "products",
    "accounts",
    "fx_rates",  # before the amounts it converts
    "holdings",
    "transactions",
    "events",
    "identities",
    "consent_events",
)


def get_table(name: str) -> Table:
    """The contract table called `name`, or a NotFound that lists the known ones."""
    from lingxi.errors import NotFound

    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise NotFound(f"unknown table `{name}`", hint=f"the data contract has: {known}") from None
