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

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, insert, select

from lingxi.keys import HashKey, Keys
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
    """The erased customers' references and identifier hashes, loaded once per writer run.

    A value is erased when its hash under any of the keys the registry's rows were made with is
    registered (`key_ids`; None: a row from before key ids were stored, tried under every key), so a
    hash-key rotation leaves every erasure in force.
    """

    subjects: frozenset[str]
    identifiers: frozenset[str]
    hash_key: HashKey
    key_ids: frozenset[str | None] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.subjects or self.identifiers)

    def _digests(self) -> list[_KeyedHash]:
        keys = Keys.of(self.hash_key)
        named = {kid for kid in self.key_ids if kid is not None}
        wanted = keys.secrets.keys() if None in self.key_ids or not self.key_ids else named
        return [_KeyedHash(keys.secret(kid)) for kid in sorted(wanted)]

    def _matching(self, values: Iterable[str], prefix: str, registered: frozenset[str]) -> list[str]:
        if not registered:
            return []
        digests = self._digests()
        return [v for v in values if any(d(f"{prefix}{v.strip()}") in registered for d in digests)]

    def erased_customers(self, customer_ids: Iterable[str]) -> list[str]:
        """Those of `customer_ids` (trimmed) whose customer is erased."""
        return self._matching(customer_ids, "lingxi-subject:", self.subjects)

    def erased_identifiers(self, values: Iterable[str]) -> list[str]:
        """Those of `values` (trimmed) registered as identifiers of an erased customer."""
        return self._matching(values, "lingxi-identifier:", self.identifiers)

    def erased_rows(self, table: pa.Table, key: str = "customer_id") -> pa.ChunkedArray | pa.Array | None:
        """Mask of the rows of `table` an erasure removed (the rules in the module docstring); None when none.

        For writers that rewrite lake files (rollback, compaction): only the distinct values are hashed.
        """
        if not self:
            return None
        names = table.column_names
        mask: pa.ChunkedArray | pa.Array = pa.array([False] * table.num_rows, pa.bool_())
        if key in names and self.subjects:
            values = pc.unique(pc.cast(table[key], pa.string())).drop_null().to_pylist()
            if erased := self.erased_customers(values):
                hit = pc.is_in(pc.cast(table[key], pa.string()), value_set=pa.array(erased, pa.string()))
                mask = pc.or_(mask, pc.fill_null(hit, False))
        anonymous = pc.is_null(table[key]) if key in names else pa.array([True] * table.num_rows, pa.bool_())
        for column in IDENTIFIER_COLUMNS:
            if column not in names or not self.identifiers:
                continue
            text = pc.cast(pc.filter(table[column], anonymous), pa.string())
            if erased := self.erased_identifiers(pc.unique(text).drop_null().to_pylist()):
                hit = pc.and_(anonymous, pc.is_in(pc.cast(table[column], pa.string()), value_set=pa.array(erased)))
                mask = pc.or_(mask, pc.fill_null(hit, False))
        return mask if pc.any(mask).as_py() else None


def load_registry(store: Engine | Connection, hash_key: HashKey) -> ErasureRegistry:
    """The registry as it stands (both tables, read in one go).

    Raises ConfigError when a row was made with a hash key the keyring lacks: a writer that went on
    would bring that customer back.
    """

    def read(conn: Connection) -> ErasureRegistry:
        subjects = conn.execute(select(Erasure.subject_ref, Erasure.key_id)).all()
        identifiers = conn.execute(select(ErasedIdentifier.identifier_ref, ErasedIdentifier.key_id)).all()
        key_ids = frozenset(r.key_id for r in [*subjects, *identifiers])
        keys = Keys.of(hash_key)
        for kid in key_ids - {None}:
            keys.secret(str(kid))
        return ErasureRegistry(
            frozenset(r.subject_ref for r in subjects),
            frozenset(r.identifier_ref for r in identifiers),
            keys,
            key_ids,
        )

    if isinstance(store, Connection):
        return read(store)
    with store.connect() as conn:
        return read(conn)


def register_identifiers(
    conn: Connection, subject: str, identifiers: Mapping[str, str], *, hash_key: HashKey, at: datetime
) -> int:
    """Add each identifier (value -> kind) of the erased customer `subject` (their reference); returns those added.

    Hashed under the active key, whose id is stored beside each hash. An identifier already registered
    (a second run, or one shared with a customer erased before) stays as it was.
    """
    keys = Keys.of(hash_key)
    digest = _KeyedHash(keys.active)
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
        {"identifier_ref": ref, "kind": kind[:32], "subject_ref": subject, "erased_at": at, "key_id": keys.active_id}
        for ref, kind in sorted(wanted.items())
        if ref not in present
    ]
    if rows:
        conn.execute(insert(ErasedIdentifier), rows)
    return len(rows)
