"""Masking of identifier values and redaction of identifiers in free text; imports nothing of Lingxi.

The rules are COMPLIANCE.md's (see lingxi.privacy.masking for who may see what). They live apart from the
permission logic so that the lowest layers (the audit log, error messages) can redact free text without
importing the privacy capability, which itself depends on auth.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D")


def mask_mobile(value: str) -> str:
    """`13812341234` -> `138****1234`; other lengths keep at most the last 4 characters."""
    digits = _DIGITS.sub("", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return _keep_last(digits or value, 4)


def mask_card(value: str, *, show_bin: bool = False) -> str:
    """Card or account number: first 6 + last 4 when `show_bin`, else last 4 only."""
    digits = _DIGITS.sub("", value) or value
    if len(digits) <= 4:  # already only the last 4 (the contract's `account_no_last4`), or too short to show
        return "****" + digits if len(digits) == 4 else "****"
    if show_bin and len(digits) >= 13:
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    return _keep_last(digits, 4)


def mask_id_no(value: str) -> str:
    """ID number: first and last character, the rest starred (`1****************X`)."""
    text = value.strip()
    if len(text) <= 2:
        return "*" * max(len(text), 2)
    return text[0] + "*" * (len(text) - 2) + text[-1]


_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 轩辕 令狐 钟离 闾丘 端木 澹台 公冶 "
    "南宫 西门 百里 呼延 独孤 太史 申屠 万俟 赫连 单于 濮阳 淳于 仲孙 东郭 第五 完颜 拓跋 左丘 谷梁".split()
)
_HAN = re.compile(r"[\u3400-\u9fff]")


def mask_name(value: str) -> str:
    """Surname only: `张三` -> `张**`, `欧阳娜娜` -> `欧阳**`, `John Smith` -> `J*** S****`.

    The given name is always two stars, so its length is not shown. Names written with a middle dot
    (transliterated minority or foreign names, `阿沛·阿旺晋美`) keep only their first character.
    Latin-script names keep each part's initial, since the family name's position is not known.
    """
    text = value.strip()
    if not text:
        return text
    if _HAN.match(text):
        if "·" in text or "•" in text:
            return text[0] + "**"
        surname = text[:2] if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else text[0]
        return surname + "**"
    return " ".join(part[0] + "*" * max(len(part) - 1, 2) for part in text.split())


_ADDRESS = re.compile(
    r"^(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区))?"
    r"(?P<city>[\u4e00-\u9fff]{2,9}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,8}?(?:区|县|市|旗))?"
)


_BELOW_DISTRICT = re.compile(r"[路街道号巷弄村镇乡楼栋室]")


def mask_address(value: str) -> str:
    """Address to district level: `浙江省杭州市西湖区文三路1号` -> `浙江省杭州市西湖区****`.

    An address whose city cannot be recognised is shown as `****` (fail closed): better to hide a
    foreign or free-form address than to show its street.
    """
    text = re.sub(r"\s+", "", value)
    m = _ADDRESS.match(text)
    if m is None or not (m.group("city") or (m.group("province") and m.group("district"))):
        return "****"
    kept = "".join(g for g in m.group("province", "city", "district") if g)
    if _BELOW_DISTRICT.search(kept):  # a street or village slipped into a group: hide it all
        return "****"
    return kept + "****" if len(kept) < len(text) else kept


def _keep_last(text: str, n: int) -> str:
    return "*" * max(len(text) - n, 4) + text[-n:] if len(text) > n else "*" * 4


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
# Not inside a longer token of letters and digits: a keyed hash or a request id (hex) holds runs of digits
# that are no mobile or card number, and masking them would corrupt the reference.
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9A-Za-z])")
_CARD_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")


def redact_identifiers(text: str) -> str:
    """Free text with full ID numbers, mobiles and card numbers masked, for logs and error messages.

    A second line of defence (R24): callers should not put identifiers in free text in the first place.
    """
    text = _ID_IN_TEXT.sub(lambda m: mask_id_no(m.group()), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m.group()), text)
    return _CARD_IN_TEXT.sub(lambda m: mask_card(m.group()), text)
