"""The product shelf: every contract product type, risk levels R1-R5, minimums, terms, sale windows.

The shelf is fixed (no randomness) so that product ids are stable across seeds and a test or demo can
name a product. Its risk mix follows the WMP market: 95.7% of WMP money at R2 or lower, R1 a third
(银行业理财登记托管中心 2024 [V]); `weight` is a product's share of holdings within its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from lingxi.schema import TABLES
from lingxi.sim.arrays import day_number, to_date, to_money
from lingxi.sim.params import OFFER_TYPES

# (product_id, name, type, risk 1-5, min_amount, term_days, issuer, weight, on_sale_days or 0 = always)
_SHELF: tuple[tuple[str, str, str, int, float, int, str, float, int], ...] = (
    ("DP0001", "活期储蓄", "deposit", 1, 0, 0, "本行", 1.0, 0),
    ("TD0003", "整存整取 3 个月", "time_deposit", 1, 50, 90, "本行", 0.15, 0),
    ("TD0006", "整存整取 6 个月", "time_deposit", 1, 50, 180, "本行", 0.15, 0),
    ("TD0012", "整存整取 1 年", "time_deposit", 1, 50, 365, "本行", 0.25, 0),
    ("TD0024", "整存整取 2 年", "time_deposit", 1, 50, 730, "本行", 0.15, 0),
    ("TD0036", "整存整取 3 年", "time_deposit", 1, 50, 1095, "本行", 0.20, 0),
    ("TD1036", "大额存单 3 年", "time_deposit", 1, 200_000, 1095, "本行", 0.10, 0),
    ("WM0001", "朝朝宝现金理财", "wealth", 1, 1, 0, "本行理财子公司", 0.20, 0),
    ("WM0002", "日日盈现金管理", "wealth", 1, 1, 0, "本行理财子公司", 0.08, 0),
    ("WM0103", "稳健理财 90 天", "wealth", 1, 1, 90, "本行理财子公司", 0.05, 0),
    ("WM0201", "固收增利 180 天", "wealth", 2, 1, 180, "本行理财子公司", 0.22, 0),
    ("WM0202", "固收增利 1 年", "wealth", 2, 1, 365, "本行理财子公司", 0.20, 0),
    ("WM0203", "稳享固收+ 封闭式", "wealth", 2, 10_000, 365, "本行理财子公司", 0.12, 120),
    ("WM0204", "最短持有 30 天", "wealth", 2, 1, 30, "他行理财子公司", 0.087, 0),
    ("WM0301", "多元配置 1 年", "wealth", 3, 10_000, 365, "本行理财子公司", 0.035, 0),
    ("WM0401", "权益精选", "wealth", 4, 10_000, 0, "本行理财子公司", 0.006, 0),
    ("WM0501", "量化对冲", "wealth", 5, 1_000_000, 365, "他行理财子公司", 0.002, 0),
    ("FD0001", "货币基金 A", "fund", 1, 0.01, 0, "某某基金", 0.45, 0),
    ("FD0201", "纯债基金", "fund", 2, 10, 0, "某某基金", 0.18, 0),
    ("FD0202", "短债基金", "fund", 2, 10, 0, "某某基金", 0.12, 0),
    ("FD0301", "偏债混合", "fund", 3, 10, 0, "某某基金", 0.12, 0),
    ("FD0401", "偏股混合", "fund", 4, 10, 0, "某某基金", 0.06, 0),
    ("FD0402", "消费行业股票", "fund", 4, 10, 0, "某某基金", 0.04, 0),
    ("FD0501", "科技指数增强", "fund", 5, 10, 0, "某某基金", 0.03, 0),
    ("IN0101", "年金保险", "insurance", 1, 10_000, 3650, "某某人寿", 0.40, 0),
    ("IN0201", "增额终身寿险", "insurance", 2, 10_000, 0, "某某人寿", 0.35, 0),
    ("IN0301", "万能险", "insurance", 3, 5_000, 0, "某某人寿", 0.15, 0),
    ("IN0401", "投资连结险", "insurance", 4, 10_000, 0, "某某人寿", 0.10, 0),
    ("PN0101", "个人养老金储蓄", "pension", 1, 1, 1825, "本行", 0.55, 0),
    ("PN0201", "个人养老金理财", "pension", 2, 1, 365, "本行理财子公司", 0.10, 0),
    ("PN0301", "个人养老金基金 Y 份额", "pension", 3, 1, 0, "某某基金", 0.20, 0),
    ("PN0202", "个人养老金保险", "pension", 2, 1_000, 0, "某某人寿", 0.15, 0),
    ("LN0101", "闪电贷", "loan", 1, 1_000, 365, "本行", 0.70, 0),
    ("LN0201", "个人住房贷款", "loan", 1, 100_000, 9125, "本行", 0.30, 0),
    ("CC0001", "信用卡 标准卡", "credit_card", 1, 0, 0, "本行", 0.70, 0),
    ("CC0002", "信用卡 金卡", "credit_card", 1, 0, 0, "本行", 0.30, 0),
    # Foreign-currency demand deposits (sim/fx.py): weight 0, never drawn by type; held by FX holders only.
    ("DPUSD1", "美元活期储蓄", "deposit", 1, 0, 0, "本行", 0.0, 0),
    ("DPHKD1", "港币活期储蓄", "deposit", 1, 0, 0, "本行", 0.0, 0),
    ("DPEUR1", "欧元活期储蓄", "deposit", 1, 0, 0, "本行", 0.0, 0),
    ("DPJPY1", "日元活期储蓄", "deposit", 1, 0, 0, "本行", 0.0, 0),
    ("DPGBP1", "英镑活期储蓄", "deposit", 1, 0, 0, "本行", 0.0, 0),
)


def product_currency(product_id: str) -> str:
    """A product's currency: the foreign-currency deposits carry theirs in their id (`DPUSD1`), the rest are CNY."""
    return product_id[2:5] if product_id.startswith("DP") and product_id[2:5].isalpha() else "CNY"


def fx_deposit(currency: str) -> str:
    """The id of the demand deposit in `currency` (a code of lingxi.sim.fx.FX_CURRENCIES)."""
    return f"DP{currency}1"


@dataclass(frozen=True)
class Shelf:
    """The shelf as arrays, for vectorised choice of products by type and suitability."""

    product_id: tuple[str, ...]
    type_code: np.ndarray  # index into OFFER_TYPES
    risk: np.ndarray  # 1..5
    weight: np.ndarray
    min_amount: np.ndarray
    term_days: np.ndarray

    def weights_for(self, type_name: str, customer_risk: np.ndarray) -> np.ndarray:
        """(customers x products) weights of the type's products the customer may hold.

        A product is suitable when its level R is at most the customer's level C (C1 -> R1 ... C5 -> R5);
        customers never assessed (-1) may hold R1 only.
        """
        in_type = self.type_code == OFFER_TYPES.index(type_name)
        level = np.maximum(customer_risk, 0)[:, None] + 1
        return np.where(in_type[None, :] & (self.risk[None, :] <= level), self.weight[None, :], 0.0)


def build_shelf() -> Shelf:
    return Shelf(
        product_id=tuple(p[0] for p in _SHELF),
        type_code=np.array([OFFER_TYPES.index(p[2]) for p in _SHELF]),
        risk=np.array([p[3] for p in _SHELF]),
        weight=np.array([p[7] for p in _SHELF]),
        min_amount=np.array([p[4] for p in _SHELF], dtype=np.float64),
        term_days=np.array([p[5] for p in _SHELF]),
    )


def products_table(start: date) -> pa.Table:
    """The contract `products` table; sale windows are anchored on the simulation start date."""
    sale_start = [start - timedelta(days=730 if p[8] == 0 else 60) for p in _SHELF]
    sale_end = [None if p[8] == 0 else start + timedelta(days=p[8] - 60) for p in _SHELF]
    columns = {
        "product_id": pa.array([p[0] for p in _SHELF]),
        "name": pa.array([p[1] for p in _SHELF]),
        "type": pa.array([p[2] for p in _SHELF]),
        "risk_level": pa.array([f"R{p[3]}" for p in _SHELF]),
        "min_amount": to_money(np.array([p[4] for p in _SHELF])),
        "term_days": pa.array([p[5] for p in _SHELF], pa.int64()),
        "sale_start": to_date(np.array([day_number(d) for d in sale_start])),
        "sale_end": pa.array([None if d is None else day_number(d) for d in sale_end], pa.int32()).cast(pa.date32()),
        "currency": pa.array([product_currency(p[0]) for p in _SHELF]),
        "issuer": pa.array([p[6] for p in _SHELF]),
    }
    return pa.table(columns, schema=TABLES["products"].arrow_schema())
