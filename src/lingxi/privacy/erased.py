"""The erasure registry, as writers consult it: which customer ids and linked identifiers are erased.

An erasure (`lingxi.privacy.dsr.erase_customer`) records the keyed reference of the customer id
(`lx_erasure`) and a keyed hash of every identifier linked to the customer (`lx_erased_identifier`:
device ids, phone and ID-number hashes, open and union ids, identity values, the anonymous ids seen on
the customer's devices). Every writer that could bring rows back (the loader, corrections, lake
rewrites) loads the registry once and asks it about the values it is about to write:

- a row whose `customer_id` is erased is left out;
- a row with no `customer_id` (an anonymous event) is left out when any of its identifier columns
  (`IDENTIFIER_COLUMNS`) holds an erased identifier.

A row that names a live customer is kept even when it carries an identifier the erased customer shared
(a family tablet, the union id of one person with two customer numbers): it is that customer's data.
The registry holds only keyed hashes, so it names nobody to whoever lacks the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from lingxi.privacy.tables import ErasedIdentifier, Erasure

#: Columns of the bank data contract that identify a person without a customer id.
IDENTIFIER_COLUMNS = ("anonymous_id", "device_id", "id_value", "phone_hash", "id_no_hash")


class _KeyedHash:
    """HMAC-SHA256 under one key, its key schedule done once (the loader hashes many values).

    The stdlib's `hmac` object copied per value; the same hex digests as `lingxi.privacy.identifiers.keyed_hash`.
    """

    def __init__(self, key: str) -> None:
        self._keyed = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def __call__(self, value: str) -> str:
        one = self._keyed.copy()
        one.update(value.encode())
        return one.hexdigest()


@dataclass(frozen=True)
class ErasureRegistry:
    """The erased customers' references and identifier hashes, loaded once per writer run."""

    subjects: frozenset[str]
    identifiers: frozenset[str]
    hash_key: str

    def __bool__(self) -> bool:
        return bool(self.subjects or self.identifiers)

    def erased_customers(self, customer_ids: Iterable[str]) -> list[str]:
        """Those of `customer_ids` (trimmed) whose customer is erased."""
        if not self.subjects:
            return []
        digest = _KeyedHash(self.hash_key)
        return [i for i in customer_ids if digest(f"lingxi-subject:{i.strip()}") in self.subjects]

    def erased_identifiers(self, values: Iterable[str]) -> list[str]:
        """Those of `values` (trimmed) registered as identifiers of an erased customer."""
        if not self.identifiers:
            return []
        digest = _KeyedHash(self.hash_key)
        return [v for v in values if digest(f"lingxi-identifier:{v.strip()}") in self.identifiers]


def load_registry(store: Engine | Connection, hash_key: str) -> ErasureRegistry:
    """The registry as it stands (both tables, read in one go)."""

    def read(conn: Connection) -> ErasureRegistry:
        subjects = frozenset(conn.execute(select(Erasure.subject_ref)).scalars())
        identifiers = frozenset(conn.execute(select(ErasedIdentifier.identifier_ref)).scalars())
        return ErasureRegistry(subjects, identifiers, hash_key)

    if isinstance(store, Connection):
        return read(store)
    with store.connect() as conn:
        return read(conn)


def register_identifiers(
    conn: Connection, subject: str, identifiers: Mapping[str, str], *, hash_key: str, at: datetime
) -> int:
    """Add each identifier (value -> kind) of the erased customer `subject` (their reference); returns those added.

    An identifier already registered (a second run, or one shared with a customer erased before) stays
    as it was.
    """
    digest = _KeyedHash(hash_key)
    wanted = {
        digest(f"lingxi-identifier:{value.strip()}"): kind for value, kind in identifiers.items() if value.strip()
    }
    if not wanted:
        return 0
    present = set(
        conn.execute(
            select(ErasedIdentifier.identifier_ref).where(ErasedIdentifier.identifier_ref.in_(sorted(wanted)))
        ).scalars()
    )
    rows = [
        {"identifier_ref": ref, "kind": kind[:32], "subject_ref": subject, "erased_at": at}
        for ref, kind in sorted(wanted.items())
        if ref not in present
    ]
    if rows:
        conn.execute(insert(ErasedIdentifier), rows)
    return len(rows)
