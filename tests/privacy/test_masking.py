"""Masking: golden cases per COMPLIANCE.md, masking a contract record per role, unmasking rules, and a sweep
asserting that no full ID number, mobile or card number survives (R24)."""

from __future__ import annotations

import random
import re

import pytest

from lingxi.auth import PermissionDenied, Principal, Role, permissions_of
from lingxi.privacy.masking import (
    FIELD_KINDS,
    UnmaskReason,
    mask_address,
    mask_card,
    mask_id_no,
    mask_mobile,
    mask_name,
    mask_record,
    redact_identifiers,
)
from lingxi.schema.contract import ACCOUNTS, CUSTOMERS, TABLES

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
FULL_CARD = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def no_full_identifier(text: str) -> bool:
    return not (FULL_ID.search(text) or FULL_MOBILE.search(text) or FULL_CARD.search(text))


def who(role: Role) -> Principal:
    return Principal(1, "u", role, "BR-A", permissions_of(role))


@pytest.mark.parametrize(
    ("func", "value", "masked"),
    [
        (mask_mobile, "13812341234", "138****1234"),
        (mask_mobile, "+86 138-1234-1234", "138****1234"),
        (mask_mobile, "0571-8888", "****8888"),
        (mask_id_no, "11010519491231002X", "1****************X"),
        (mask_id_no, "X", "**"),
        (mask_name, "张三", "张**"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_name, "司马相如", "司马**"),
        (mask_name, "欧阳", "欧**"),  # a two-character name is surname + given name
        (mask_name, "阿沛·阿旺晋美", "阿**"),
        (mask_name, "John Smith", "J*** S****"),
        (mask_name, "Li", "L**"),
        (mask_address, "浙江省杭州市西湖区文三路 1 号", "浙江省杭州市西湖区****"),
        (mask_address, "北京市朝阳区建国路88号", "北京市朝阳区****"),
        (mask_address, "上海市浦东新区张江路", "上海市浦东新区****"),
        (mask_address, "广西壮族自治区南宁市青秀区民族大道", "广西壮族自治区南宁市青秀区****"),
        (mask_address, "江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市****"),
        (mask_address, "浙江省西湖区文三路市场1号", "****"),  # a street slipped into the city: hide it all
        (mask_address, "221B Baker Street, London", "****"),
    ],
)
def test_golden(func: object, value: str, masked: str) -> None:
    assert func(value) == masked  # type: ignore[operator]


def test_card_six_plus_four_only_for_roles_that_need_it() -> None:
    assert mask_card("6222021234567890123") == "***************0123"
    assert mask_card("6222 0212 3456 7890 123", show_bin=True) == "622202*********0123"
    assert mask_card("1234") == "****1234"  # the contract's last-4 column


def test_mask_record_by_role() -> None:
    record = {"customer_id": "C1", "branch_id": "BR-A", "name": "欧阳娜娜", "address": "浙江省杭州市西湖区文三路1号"}
    for role in (Role.STRATEGIST, Role.BRANCH_RM, Role.APPROVER):
        out = mask_record(record, CUSTOMERS, who(role))
        assert out.values == {**record, "name": "欧阳**", "address": "浙江省杭州市西湖区****"}
        assert out.unmasked == () and out.withheld == ()
    for role in (Role.AUDITOR, Role.ADMIN):
        with pytest.raises(PermissionDenied, match="customer:read"):
            mask_record(record, CUSTOMERS, who(role))
    account = {"account_id": "A1", "account_no_last4": "0123"}
    assert mask_record(account, ACCOUNTS, who(Role.ANALYST)).values["account_no_last4"] == "****0123"


def test_unmask_needs_the_permission_and_a_reason_and_reports_what_to_audit() -> None:
    record = {"customer_id": "C1", "name": "张三", "address": "北京市朝阳区建国路88号"}
    rm = who(Role.BRANCH_RM)
    out = mask_record(record, CUSTOMERS, rm, unmask=["name"], reason=UnmaskReason.CUSTOMER_CONTACT)
    assert out.values["name"] == "张三" and out.values["address"] == "北京市朝阳区****"
    assert out.unmasked == ("name",)
    with pytest.raises(PermissionDenied, match="reason code"):
        mask_record(record, CUSTOMERS, rm, unmask=["name"])
    with pytest.raises(PermissionDenied, match="reason code"):
        mask_record(record, CUSTOMERS, rm, unmask=["name"], reason="because")
    with pytest.raises(PermissionDenied, match="pii:unmask:address"):
        mask_record(record, CUSTOMERS, rm, unmask=["address"], reason="KYC_REVIEW")
    with pytest.raises(PermissionDenied, match="may not unmask `name`"):
        mask_record(record, CUSTOMERS, who(Role.STRATEGIST), unmask=["name"], reason="KYC_REVIEW")


def test_unknown_fields_are_withheld_unless_declared_computed() -> None:
    record = {"customer_id": "C1", "id_no": "11010519491231002X", "aum_tier": "wealth"}
    out = mask_record(record, CUSTOMERS, who(Role.ANALYST), computed=["aum_tier"])
    assert out.values == {"customer_id": "C1", "aum_tier": "wealth"} and out.withheld == ("id_no",)


def test_every_identifying_contract_column_is_hashed_masked_or_reviewed() -> None:
    """A new C2 string column must get a masking rule (or be hashed, or be added here after review)."""
    reviewed_shown = {"id_value", "device_id", "gender", "city", "occupation", "risk_level"}
    for table in TABLES.values():
        for col in table.columns:
            if not col.personal or col.type != "string" or col.name.endswith("_hash"):
                continue
            assert col.name in FIELD_KINDS or col.name in reviewed_shown, f"{table.name}.{col.name} has no rule"


def _id_no(rng: random.Random) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(16)) + rng.choice("0123456789X")


def test_sweep_no_full_identifier_survives_masking_or_redaction() -> None:
    rng = random.Random(7)
    for _ in range(500):
        mobile = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        card = "".join(rng.choice("0123456789") for _ in range(rng.randint(13, 19)))
        id_no = _id_no(rng)
        masked = " ".join([mask_mobile(mobile), mask_card(card), mask_card(card, show_bin=True), mask_id_no(id_no)])
        assert no_full_identifier(masked), masked
        text = f"客户 {id_no} 手机{mobile}，卡号 {card}; +86 {mobile}"
        assert no_full_identifier(redact_identifiers(text)), text
    assert redact_identifiers("customer C000012345 on 2026-11-02") == "customer C000012345 on 2026-11-02"


def test_redaction_leaves_keyed_hashes_and_ids_whole() -> None:
    """A digit run inside a hex reference is no mobile or card number: masking it would corrupt the reference."""
    ref = "a" + "1391234567862220212345678901" + "b" * 35  # 64 hex characters holding mobile- and card-like runs
    assert redact_identifiers(f"subject:{ref} deletion 5f1391234567890a") == f"subject:{ref} deletion 5f1391234567890a"
    assert (
        redact_identifiers("call 13912345678, card 6222021234567890123") == "call 139****5678, card ***************0123"
    )
