"""Calibration of the synthetic bank: every number the generator draws from, in one place.

The values come from ../shared/SIM_CALIBRATION.md (profile `jsb_wealth`, a CMB-like joint-stock bank);
docs/sim.md lists each one with its source and status ([V] verified, [S] secondary, [U] assumption).
Keeping them in a frozen dataclass lets a test or a bank's pilot override one figure without
touching the generator, and keeps the generator's code free of magic numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# AUM tier edges in CNY (DESIGN.md defaults): long tail, base, wealth, private.
TIER_EDGES = (50_000.0, 500_000.0, 6_000_000.0)
TIER_NAMES = ("long_tail", "base", "wealth", "private")

AGE_BANDS = ((18, 25), (25, 35), (35, 45), (45, 55), (55, 65), (65, 75), (75, 91))

# 除夕 (Spring Festival eve) by year: the calendar anchor of the strongest seasonality in China.
SPRING_FESTIVAL_EVE = {
    2019: date(2019, 2, 4),
    2020: date(2020, 1, 24),
    2021: date(2021, 2, 11),
    2022: date(2022, 1, 31),
    2023: date(2023, 1, 21),
    2024: date(2024, 2, 9),
    2025: date(2025, 1, 28),
    2026: date(2026, 2, 16),
    2027: date(2027, 2, 5),
    2028: date(2028, 1, 25),
    2029: date(2029, 2, 12),
    2030: date(2030, 2, 2),
}

# (city, contract city_tier 1-4, weight within its tier). Tier 2 merges "new first-tier" and second-tier
# cities because the contract has four tiers where the calibration file has five.
CITIES = (
    ("北京", 1, 0.27),
    ("上海", 1, 0.29),
    ("广州", 1, 0.20),
    ("深圳", 1, 0.24),
    ("杭州", 2, 0.10),
    ("成都", 2, 0.10),
    ("南京", 2, 0.09),
    ("武汉", 2, 0.09),
    ("西安", 2, 0.07),
    ("苏州", 2, 0.08),
    ("天津", 2, 0.07),
    ("重庆", 2, 0.08),
    ("长沙", 2, 0.06),
    ("郑州", 2, 0.06),
    ("青岛", 2, 0.05),
    ("宁波", 2, 0.05),
    ("温州", 3, 0.20),
    ("洛阳", 3, 0.18),
    ("绵阳", 3, 0.16),
    ("芜湖", 3, 0.16),
    ("桂林", 3, 0.15),
    ("赣州", 3, 0.15),
    ("丽水", 4, 0.25),
    ("南充", 4, 0.25),
    ("信阳", 4, 0.25),
    ("天水", 4, 0.25),
)

OCCUPATIONS = (
    "employee",
    "civil_servant",
    "teacher",
    "doctor",
    "engineer",
    "self_employed",
    "business_owner",
    "worker",
    "farmer",
    "freelancer",
    "student",
    "retired",
    "unemployed",
)
# Weights for working-age customers; students and retirees are assigned by age.
OCCUPATION_WEIGHTS = (0.30, 0.06, 0.06, 0.04, 0.09, 0.10, 0.05, 0.13, 0.05, 0.07, 0.0, 0.0, 0.05)

CHANNELS = ("push", "sms", "call", "email")
OFFER_TYPES = ("deposit", "time_deposit", "wealth", "fund", "insurance", "pension", "loan", "credit_card")
RESPONSE_TYPES = ("lost_cause", "sure_thing", "persuadable", "sleeping_dog")


@dataclass(frozen=True)
class SimParams:
    """Every calibrated figure of the generator; see docs/sim.md for sources."""

    # C1 demographics
    gender_male: float = 0.51
    age_band_shares: tuple[float, ...] = (0.08, 0.22, 0.22, 0.18, 0.14, 0.11, 0.05)
    city_tier_shares: tuple[float, ...] = (0.20, 0.55, 0.15, 0.10)
    branches_per_city: int = 6
    duplicate_share: float = 0.01  # second CIF for the same person (identity resolution must merge)
    new_customers_per_year: float = 0.06  # CMB 2024 net growth +6.6% [S]
    vulnerable_share_65plus: float = 0.08

    # C2 AUM mixture (fitted to CMB 2022)
    p_dormant: float = 0.30
    body_mu: float = 6.667
    body_sigma: float = 3.490
    wealth_threshold: float = 500_000.0
    p_private_given_wealth: float = 0.0325
    mid_alpha: float = 1.061
    mid_lo: float = 500_000.0
    mid_hi: float = 10_000_000.0
    top_alpha: float = 1.453
    top_lo: float = 10_000_000.0
    top_hi: float = 1_000_000_000.0
    age_score: tuple[float, ...] = (-1.2, -0.4, 0.0, 0.3, 0.5, 0.4, 0.4)
    city_score: tuple[float, ...] = (0.6, 0.2, -0.2, -0.5)
    wealth_noise: float = 0.8
    aum_monthly_drift: float = 0.008
    aum_monthly_vol: float = 0.12

    # C3 risk tolerance
    risk_shares: tuple[float, ...] = (0.06, 0.24, 0.42, 0.20, 0.08)
    never_assessed_long_tail: float = 0.20
    expired_long_tail: float = 0.15
    expired_other: float = 0.10

    # C4 digital behaviour
    app_regular_share: float = 0.25  # monthly active every month
    app_never_given_not_regular: float = 0.54  # => never-users ~0.45 of customers
    occasional_monthly_active: float = 0.20
    active_days_regular: float = 6.0  # extra active days a month beyond the first (mean ~7)
    launches_per_day: float = 2.9  # 1 + Poisson(2.9)
    pageviews_per_session: float = 2.0
    p_product_view: float = 0.30
    p_search: float = 0.10
    p_watchlist_given_view: float = 0.15
    p_purchase_start_given_view: float = 0.12
    p_purchase_given_start: float = 0.40
    p_anonymous_start: float = 0.05
    wechat_follower_share: float = 0.40
    wechat_events_per_month: float = 2.0
    mini_program_share: float = 0.15
    mini_program_events_per_month: float = 1.5
    android_share: float = 0.75
    push_opt_in_android: float = 0.59
    push_opt_in_ios: float = 0.40

    # C5 transactions
    payroll_share_active: float = 0.50  # of non-dormant customers under 62: 28% of all customers
    salary_median: float = 6_500.0
    salary_sigma: float = 0.6
    spend_primary_per_month: float = 20.0
    spend_secondary_per_month: float = 2.0
    primary_share_non_payroll: float = 0.10
    ticket_median: float = 60.0
    ticket_sigma: float = 1.86  # mean/median = exp(sigma^2/2) ~ 5.6 -> mean ~340 CNY
    transfers_out_per_month: float = 4.0
    transfers_in_per_month: float = 1.5
    cash_withdrawals_per_month: float = 0.3
    weekend_spend: float = 1.2
    month_end_bills: float = 1.5

    # C6 marketing response (14-day purchase probability without contact)
    offer_base: tuple[float, ...] = (0.010, 0.008, 0.004, 0.003, 0.0015, 0.002, 0.003, 0.003)
    persuadable_base: float = 0.04
    sure_thing_share: float = 0.05
    sleeping_dog_share: float = 0.03
    channel_lift: tuple[float, ...] = (0.04, 0.02, 0.08, 0.015)  # push, sms, call, email
    optout_per_contact: float = 0.001

    # C7 attrition: monthly hard-churn hazard by tier
    churn_hazard: tuple[float, ...] = (0.005, 0.0025, 0.002, 0.0015)
    churn_precursor_days: int = 42
    consent_withdraw_per_month: float = 0.01

    # C3 product holding probabilities by tier (long tail, base, wealth, private); dormant hold none.
    holding_probs: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "time_deposit": (0.15, 0.55, 0.70, 0.75),
            "wealth": (0.04, 0.30, 0.65, 0.80),
            "fund": (0.04, 0.20, 0.45, 0.65),
            "insurance": (0.02, 0.12, 0.35, 0.55),
            "credit_card": (0.35, 0.50, 0.60, 0.65),
            "loan": (0.15, 0.25, 0.27, 0.22),
        }
    )
    pension_share_20_59: float = 0.10
    pension_share_60plus: float = 0.02
    card_only_credit_share: float = 0.50
