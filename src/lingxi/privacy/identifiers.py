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
from datetime import date

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


def _check_digit(body: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_no(raw: str) -> str | None:
    """The 18-character resident ID number in `raw` (upper-case X), or None if it is not one.

    An 18-character number must carry a valid GB 11643 (ISO 7064 MOD 11-2) check character; a lower-case
    `x` is the same as `X`. A 15-digit first-generation number (GB 11643-1989: a two-digit birth year in
    the 1900s and no check digit) is converted as the issuing offices do: `19` is put before the year
    and the check digit computed, so both cards of one person hash the same. Having no check digit, a
    15-digit number is accepted only when its birth date is a real date.
    """
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    if re.fullmatch(r"[0-9]{15}", text):
        try:
            date(1900 + int(text[6:8]), int(text[8:10]), int(text[10:12]))
        except ValueError:
            return None
        body = text[:6] + "19" + text[6:]
        return body + _check_digit(body)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        return None
    return text if _check_digit(text[:17]) == text[17] else None


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
