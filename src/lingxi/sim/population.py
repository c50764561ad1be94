"""Who the customers are: demographics, wealth, risk tolerance, habits and fate, for one chunk.

Every other table of a chunk is generated from this one `Population`, so their facts agree: a
payroll customer gets salary credits, an app user gets sessions and device identities, a churner's
money leaves for another bank in the weeks before the relationship closes. It is drawn from its own
random stream, so regenerating a chunk on resume gives the same people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from lingxi.sim.arrays import US_PER_DAY, chunk_rng, day_number, pick
from lingxi.sim.params import AGE_BANDS, CITIES, OCCUPATIONS, OFFER_TYPES, TIER_EDGES, SimParams

APP_NEVER, APP_OCCASIONAL, APP_REGULAR = 0, 1, 2
# Hours a customer is most reachable; peaks 8-10, 12-13 and 20-22 (SIM_CALIBRATION C4).
BEST_HOURS = np.array([8, 9, 10, 12, 13, 19, 20, 21, 22])
BEST_HOUR_WEIGHTS = np.array([0.08, 0.10, 0.07, 0.12, 0.08, 0.10, 0.18, 0.17, 0.10])


@dataclass
class Population:
    """Column arrays (one element per customer) for one chunk; `index` is the global customer number."""

    index: np.ndarray
    start_day: int
    days: int
    age: np.ndarray  # years at the window start
    age_band: np.ndarray
    birth_day: np.ndarray  # date32
    gender: np.ndarray  # 0 M, 1 F, 2 U
    city: np.ndarray
    city_tier: np.ndarray  # 1..4
    branch: np.ndarray
    occupation: np.ndarray
    income_score: np.ndarray
    salary: np.ndarray
    aum: np.ndarray  # CNY at the window start
    tier: np.ndarray  # 0 long tail .. 3 private
    dormant: np.ndarray
    card_only: np.ndarray
    risk: np.ndarray  # 0..4 = C1..C5, -1 never assessed
    risk_assessed_us: np.ndarray
    app_class: np.ndarray
    android: np.ndarray
    wechat: np.ndarray
    mini_program: np.ndarray
    has_email: np.ndarray
    payroll: np.ndarray
    salary_dom: np.ndarray  # day of month, 31 = last working day
    primary: np.ndarray
    best_hour: np.ndarray
    channel_pref: np.ndarray  # index into params.CHANNELS
    onboard_us: np.ndarray
    churn_hazard: np.ndarray  # monthly
    churn_day: np.ndarray  # day offset in the window, -1 if the customer stays
    held: np.ndarray  # (n, len(OFFER_TYPES)) bool
    vulnerable: np.ndarray
    person: np.ndarray  # person number; a duplicate CIF shares its original's
    dup_of: np.ndarray  # global index of the original record, -1 if none
    dup_fuzzy: np.ndarray  # duplicate without a shared key (no ID number, other phone)
    surname: np.ndarray
    given: np.ndarray  # (n, 2) codes; column 1 == -1 for one-character given names

    def __len__(self) -> int:
        return len(self.index)

    @property
    def end_us(self) -> int:
        return (self.start_day + self.days) * US_PER_DAY

    @property
    def churn_us(self) -> np.ndarray:
        """End of each customer's activity: the churn moment, or the end of the window."""
        return np.where(self.churn_day >= 0, (self.start_day + self.churn_day) * US_PER_DAY, self.end_us)


def _draw_aum(rng: np.random.Generator, n: int, p: SimParams) -> tuple[np.ndarray, np.ndarray]:
    """AUM from the three-part mixture fitted to CMB 2022 (dormant mass, log-normal body, Pareto tails)."""
    dormant = rng.random(n) < p.p_dormant
    aum = rng.lognormal(p.body_mu, p.body_sigma, n)
    rich = ~dormant & (aum >= p.wealth_threshold)
    top = rich & (rng.random(n) < p.p_private_given_wealth)
    u = rng.random(n)

    def pareto(lo: float, hi: float, alpha: float) -> np.ndarray:
        return lo * (1.0 - u * (1.0 - (lo / hi) ** alpha)) ** (-1.0 / alpha)

    aum = np.where(rich & ~top, pareto(p.mid_lo, p.mid_hi, p.mid_alpha), aum)
    aum = np.where(top, pareto(p.top_lo, p.top_hi, p.top_alpha), aum)
    aum = np.where(dormant, rng.uniform(0.0, 40.0, n), aum)
    return aum, dormant


def draw_population(
    seed: int, chunk: int, first_index: int, n: int, start: date, days: int, params: SimParams
) -> Population:
    """Draw one chunk of customers; deterministic in (seed, chunk)."""
    p = params
    rng = chunk_rng(seed, "population", chunk)
    index = np.arange(first_index, first_index + n, dtype=np.int64)
    start_day = day_number(start)

    age_band = pick(rng, p.age_band_shares, n)
    lo = np.array([b[0] for b in AGE_BANDS])[age_band]
    hi = np.array([b[1] for b in AGE_BANDS])[age_band]
    age = rng.uniform(lo, hi)
    birth_day = (start_day - age * 365.25).astype(np.int32)
    gender = pick(rng, (p.gender_male, 1 - p.gender_male - 0.005, 0.005), n)

    tiers = np.array([c[1] for c in CITIES])
    city_tier = pick(rng, p.city_tier_shares, n) + 1
    city_w = np.array([c[2] for c in CITIES])[None, :] * (tiers[None, :] == city_tier[:, None])
    city = np.argmax(np.cumsum(city_w, axis=1) > (rng.random(n) * city_w.sum(axis=1))[:, None], axis=1)
    branch = city * 100 + rng.integers(1, p.branches_per_city + 1, n)

    income_score = rng.standard_normal(n)
    salary = p.salary_median * np.exp(p.salary_sigma * income_score)

    # Gaussian copula: AUM drawn from its marginal, assigned by rank of a latent wealth score so the
    # tier shares stay exact while wealth rises with age (peak 55-64), big cities and income.
    aum_draw, dormant_draw = _draw_aum(rng, n, p)
    score = (
        0.35 * np.asarray(p.age_score)[age_band]
        + 0.25 * np.asarray(p.city_score)[city_tier - 1]
        + 0.25 * income_score
        + p.wealth_noise * rng.standard_normal(n)
    )
    order = np.argsort(aum_draw, kind="stable")
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.argsort(score, kind="stable")] = np.arange(n)
    aum = aum_draw[order][ranks]
    dormant = dormant_draw[order][ranks]
    card_only = dormant & (rng.random(n) < 0.5)
    aum = np.where(card_only, 0.0, aum)
    tier = np.searchsorted(np.asarray(TIER_EDGES), aum, side="right")

    # Risk tolerance C1-C5: one class down at 65+, up for the wealthy (SIM_CALIBRATION C3).
    risk = pick(rng, p.risk_shares, n)
    risk = risk - (age >= 65) - ((age >= 75) & (rng.random(n) < 0.3))
    risk = risk + ((tier >= 2) & (rng.random(n) < 0.5)) + (tier >= 3) - ((age < 25) & (rng.random(n) < 0.3))
    risk = np.clip(risk, 0, 4)
    never = (tier == 0) & (rng.random(n) < p.never_assessed_long_tail)
    expired = rng.random(n) < np.where(tier == 0, p.expired_long_tail, p.expired_other)
    age_days = np.where(expired, rng.uniform(370, 1100, n), rng.uniform(1, 330, n))
    risk_assessed_us = ((start_day - age_days) * US_PER_DAY).astype(np.int64)
    risk = np.where(never, -1, risk)

    occupation = pick(rng, _occupation_weights(), n)
    occupation = np.where(age < 23, np.where(rng.random(n) < 0.7, 10, occupation), occupation)
    occupation = np.where(age >= 60, np.where(rng.random(n) < 0.8, 11, occupation), occupation)

    # App habit: regular users are MAU every month; the rest split into never-users and occasional ones.
    age_mult = np.array([1.5, 1.5, 1.17, 1.17, 0.73, 0.33, 0.33])[age_band]
    tier_mult = np.array([1.22, 2.58, 3.0, 3.0])[tier] * np.where(dormant, 0.1 / 1.22, 1.0)
    p_regular = np.clip(p.app_regular_share * age_mult * tier_mult, 0, 0.9)
    never_mult = np.array([0.75, 0.75, 0.9, 0.9, 1.15, 1.35, 1.35])[age_band]
    p_never = np.clip(p.app_never_given_not_regular * never_mult * np.where(dormant, 1.4, 1.0), 0, 1)
    u = rng.random(n)
    app_class = np.where(u < p_regular, APP_REGULAR, np.where(rng.random(n) < p_never, APP_NEVER, APP_OCCASIONAL))
    android = rng.random(n) < p.android_share
    wechat = rng.random(n) < p.wechat_follower_share * np.where(age >= 70, 0.5, 1.0)
    mini_program = rng.random(n) < p.mini_program_share * np.where(age < 45, 1.4, 0.6)
    has_email = rng.random(n) < np.where(age < 50, 0.35, 0.15)

    payroll = ~dormant & (age < 62) & (rng.random(n) < p.payroll_share_active)
    salary_dom = np.array([10, 15, 5, 3, 12, 20, 25, 31, 28])[
        pick(rng, (0.22, 0.18, 0.08, 0.10, 0.08, 0.07, 0.08, 0.14, 0.05), n)
    ]
    primary = payroll | (~dormant & (rng.random(n) < p.primary_share_non_payroll))

    best_hour = BEST_HOURS[pick(rng, BEST_HOUR_WEIGHTS, n)]
    pref_w = np.stack(
        [
            np.where(app_class == APP_REGULAR, 3.0, np.where(app_class == APP_OCCASIONAL, 1.0, 0.05)),
            np.full(n, 1.5),
            np.where(age >= 55, 2.5, 0.8) + (tier >= 2),
            np.where(has_email, 0.8, 0.0),
        ],
        axis=1,
    )
    channel_pref = np.argmax(np.cumsum(pref_w, axis=1) > (rng.random(n) * pref_w.sum(axis=1))[:, None], axis=1)

    new = rng.random(n) < p.new_customers_per_year * days / 365
    tenure_days = np.minimum(rng.exponential(6 * 365, n), (age - 18) * 365.25)
    onboard_day = np.where(new, start_day + rng.uniform(0, days, n), start_day - tenure_days)
    onboard_us = (onboard_day * US_PER_DAY).astype(np.int64) + rng.integers(9, 17, n) * 3_600_000_000

    # Attrition: hazard rises for customers without payroll and without app use (observable habits).
    hazard = np.asarray(p.churn_hazard)[tier] * np.where(payroll, 0.6, 1.5)
    hazard = hazard * np.where(app_class == APP_NEVER, 1.3, 1.0) * rng.gamma(2.0, 0.5, n)
    churn_at = rng.exponential(30.0 / hazard)
    stays = (churn_at >= days) | (start_day + churn_at < onboard_day + 30) | card_only
    churn_day = np.where(stays, -1, churn_at.astype(np.int64))

    held = _draw_holdings(rng, p, n, tier, dormant, card_only, age)
    vulnerable = rng.random(n) < np.where(age >= 65, p.vulnerable_share_65plus, 0.005)

    surname = pick(rng, SURNAME_WEIGHTS, n)
    given = rng.integers(0, len(GIVEN_CHARS), (n, 2))
    given[:, 1] = np.where(rng.random(n) < 0.3, -1, given[:, 1])

    person = index.copy()
    dup_of = np.full(n, -1, dtype=np.int64)
    dups = (rng.random(n) < p.duplicate_share) & (np.arange(n) > 0)
    originals = (rng.random(n) * np.arange(n)).astype(np.int64)  # an earlier record of the chunk
    dups &= ~dups[originals]
    dup_of[dups] = index[originals[dups]]
    person[dups] = person[originals[dups]]
    for arr in (birth_day, gender, city, city_tier, surname, age, age_band):
        arr[dups] = arr[originals[dups]]
    given[dups] = given[originals[dups]]
    dup_fuzzy = dups & (rng.random(n) < 0.5)

    return Population(
        index=index,
        start_day=start_day,
        days=days,
        age=age,
        age_band=age_band,
        birth_day=birth_day,
        gender=gender,
        city=city,
        city_tier=city_tier,
        branch=branch,
        occupation=occupation,
        income_score=income_score,
        salary=salary,
        aum=aum,
        tier=tier,
        dormant=dormant,
        card_only=card_only,
        risk=risk,
        risk_assessed_us=risk_assessed_us,
        app_class=app_class,
        android=android,
        wechat=wechat,
        mini_program=mini_program,
        has_email=has_email,
        payroll=payroll,
        salary_dom=salary_dom,
        primary=primary,
        best_hour=best_hour,
        channel_pref=channel_pref,
        onboard_us=onboard_us,
        churn_hazard=hazard,
        churn_day=churn_day,
        held=held,
        vulnerable=vulnerable,
        person=person,
        dup_of=dup_of,
        dup_fuzzy=dup_fuzzy,
        surname=surname,
        given=given,
    )


def _occupation_weights() -> tuple[float, ...]:
    from lingxi.sim.params import OCCUPATION_WEIGHTS

    assert len(OCCUPATION_WEIGHTS) == len(OCCUPATIONS)
    return OCCUPATION_WEIGHTS


def _draw_holdings(
    rng: np.random.Generator,
    p: SimParams,
    n: int,
    tier: np.ndarray,
    dormant: np.ndarray,
    card_only: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """Which product types each customer holds (SIM_CALIBRATION C3 and C8)."""
    held = np.zeros((n, len(OFFER_TYPES)), dtype=bool)
    held[:, OFFER_TYPES.index("deposit")] = ~card_only
    for name, probs in p.holding_probs.items():
        prob = np.asarray(probs)[tier]
        if name == "credit_card":
            prob = np.where(card_only, 1.0, np.where(dormant, 0.1, prob))
        elif name != "loan":
            prob = np.where(dormant, 0.0, prob)
        held[:, OFFER_TYPES.index(name)] = rng.random(n) < prob
    pension = np.where((age >= 20) & (age < 60), p.pension_share_20_59, p.pension_share_60plus)
    held[:, OFFER_TYPES.index("pension")] = ~dormant & (rng.random(n) < pension * (1 + tier))
    return held


SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "彭",
    "曾",
    "萧",
    "田",
    "董",
    "潘",
    "袁",
    "蔡",
    "蒋",
    "余",
    "于",
    "杜",
    "叶",
    "程",
    "魏",
    "苏",
    "吕",
    "丁",
    "任",
    "沈",
)
# Ministry of Public Security 2020 top surnames, roughly: 王 and 李 about 7% each, a long tail after.
SURNAME_WEIGHTS = tuple(max(0.4, 7.2 - 0.9 * i) if i < 8 else 1.2 - 0.015 * i for i in range(len(SURNAMES)))
GIVEN_CHARS = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "玉",
    "萍",
    "红",
    "建",
    "文",
    "辉",
    "宇",
    "浩",
    "欣",
    "怡",
    "子",
    "涵",
    "轩",
    "睿",
    "博",
    "佳",
    "晨",
    "雨",
    "思",
    "梓",
    "嘉",
    "俊",
    "婷",
    "雪",
    "琳",
    "鹏",
)
