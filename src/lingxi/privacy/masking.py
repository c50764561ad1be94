"""Masked display of personal identifiers, driven by the data contract and the principal's permissions.

Defaults from COMPLIANCE.md (the strictest common practice until JR/T 0171 Annex A is checked):

| kind | masked | unmask permission |
|---|---|---|
| mobile | first 3 + last 4: `138****1234` | `pii:unmask:mobile` |
| card / account number | first 6 + last 4 with `pii:card_bin`, else last 4: `************1234` | `pii:unmask:card_no` |
| ID number | first 1 + last 1: `1****************X` | `pii:unmask:id_no` |
| name | surname only, given name as `**`: `张**`, `欧阳**`, `J*** S****` | `pii:unmask:name` |
| address | province, city, district: `浙江省杭州市西湖区****` | `pii:unmask:address` |

`mask_record` applies these to a record of a contract table. Fields the contract does not know, and
C3 fields, are withheld (R21: unclassified data gets the highest protection; R22: C3 never shown).
Unmasking needs the permission *and* a reason code, and the caller writes the returned `unmasked`
field names to the audit log (lingxi.auth.audit, action `unmask`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from lingxi.auth.errors import PermissionDenied
from lingxi.auth.roles import Permission, unmask_permission
from lingxi.auth.scope import Principal
from lingxi.redaction import (
    mask_address,
    mask_card,
    mask_id_no,
    mask_mobile,
    mask_name,
    redact_identifiers,
)
from lingxi.schema.types import Table

MaskKind = Literal["mobile", "card_no", "id_no", "name", "address"]

#: Which masking rule applies to a field, by column name (contract columns and the usual DTO names).
FIELD_KINDS: dict[str, MaskKind] = {
    "name": "name",
    "full_name": "name",
    "mobile": "mobile",
    "phone": "mobile",
    "id_no": "id_no",
    "card_no": "card_no",
    "account_no": "card_no",
    "account_no_last4": "card_no",
    "address": "address",
}


class UnmaskReason(StrEnum):
    """Why a full value is shown; required for every unmasking and written to the audit log."""

    CUSTOMER_CONTACT = "CUSTOMER_CONTACT"
    COMPLAINT_HANDLING = "COMPLAINT_HANDLING"
    KYC_REVIEW = "KYC_REVIEW"
    FRAUD_INVESTIGATION = "FRAUD_INVESTIGATION"
    DATA_SUBJECT_REQUEST = "DATA_SUBJECT_REQUEST"
    REGULATORY_REQUEST = "REGULATORY_REQUEST"


def mask_value(kind: MaskKind, value: str, *, show_bin: bool = False) -> str:
    """Mask `value` with the rule for `kind`."""
    if kind == "mobile":
        return mask_mobile(value)
    if kind == "card_no":
        return mask_card(value, show_bin=show_bin)
    if kind == "id_no":
        return mask_id_no(value)
    if kind == "name":
        return mask_name(value)
    return mask_address(value)


@dataclass(frozen=True)
class MaskedRecord:
    """A record ready to show, and what the caller must audit."""

    values: dict[str, Any]
    unmasked: tuple[str, ...]  # field names shown in full: audit them with the reason
    withheld: tuple[str, ...]  # unknown or C3 fields left out


def mask_record(
    record: Mapping[str, Any],
    table: Table,
    principal: Principal,
    *,
    unmask: Iterable[str] = (),
    reason: UnmaskReason | str | None = None,
    computed: Iterable[str] = (),
) -> MaskedRecord:
    """Mask a record of contract table `table` for `principal`; unmask the fields in `unmask` if allowed.

    `computed` names non-personal fields the caller derived (e.g. `aum_tier`) and passes through;
    any other field the contract does not list is withheld. Raises PermissionDenied if the principal
    may not read customers, asks to unmask a field without its permission, or gives no reason code.
    """
    principal.require(Permission.CUSTOMER_READ)
    wanted = set(unmask)
    if wanted:
        if reason is None or reason not in UnmaskReason._value2member_map_:
            codes = ", ".join(r.value for r in UnmaskReason)
            raise PermissionDenied("unmasking needs a reason code", hint=f"reason codes: {codes}")
        for name in sorted(wanted):
            kind = FIELD_KINDS.get(name)
            if kind is None or not principal.can(unmask_permission(kind)):
                raise PermissionDenied(
                    f"`{principal.username}` ({principal.role.value}) may not unmask `{name}`",
                    hint=f"it needs `pii:unmask:{kind or name}`",
                )
    known = {c.name: c for c in table.columns}
    passthrough = set(computed)
    show_bin = principal.can(Permission.CARD_BIN)
    values: dict[str, Any] = {}
    unmasked: list[str] = []
    withheld: list[str] = []
    for name, value in record.items():
        column = known.get(name)
        if column is None and name not in passthrough or column is not None and column.pi_class == "C3":
            withheld.append(name)
            continue
        kind = FIELD_KINDS.get(name)
        if kind is None or value is None:
            values[name] = value
        elif name in wanted:
            values[name] = value
            unmasked.append(name)
        else:
            values[name] = mask_value(kind, str(value), show_bin=show_bin)
    return MaskedRecord(values, tuple(unmasked), tuple(withheld))


__all__ = [
    "FIELD_KINDS",
    "MaskedRecord",
    "UnmaskReason",
    "mask_address",
    "mask_card",
    "mask_id_no",
    "mask_mobile",
    "mask_name",
    "mask_record",
    "mask_value",
    "redact_identifiers",
]
