"""Normalising and hashing sensitive identifiers before they reach the lake.

Phone and ID-card numbers are compared by keyed hash (HMAC-SHA256 with LINGXI_HASH_KEY), never stored in
clear. Normalising first makes `+86 138-0013-8000` and `13800138000` the same customer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable

from lingxi.keys import HashKey

_NON_DIGITS = re.compile(r"[\s\-()]+")


def normalise_phone(raw: str) -> str | None:
    """The 11-digit mainland mobile number in `raw`, or None if it is not one."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _NON_DIGITS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text if re.fullmatch(r"1[3-9][0-9]{9}", text) else None


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _check_character(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_no(raw: str) -> str | None:
    """The 18-character resident ID number in `raw` (upper-case X), or None if its check digit fails.

    The check digit follows GB 11643 (ISO 7064 MOD 11-2). A legacy 15-digit number (issued before 1999:
    a six-digit birth date in the 1900s, no check character) becomes the 18-digit number of the same
    person, so both forms of one card hash alike.
    """
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    if re.fullmatch(r"[0-9]{15}", text):
        first17 = text[:6] + "19" + text[6:]
        return first17 + _check_character(first17)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        return None
    return text if _check_character(text[:17]) == text[17] else None


def keyed_hash(value: str, key: HashKey) -> str:
    """Hex HMAC-SHA256 of `value` under `key` (of a keyring, its active key: new hashes use it)."""
    secret = key if isinstance(key, str) else key.active
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def normalise_text(raw: str) -> str | None:
    """Any other identifier: trimmed, NFKC-normalised, or None when empty."""
    return unicodedata.normalize("NFKC", raw).strip() or None


NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "hash_phone": normalise_phone,
    "hash_id_no": normalise_id_no,
    "hash": normalise_text,
}
