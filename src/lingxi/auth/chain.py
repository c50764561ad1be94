"""The audit chain's key: how an entry is hashed, and which audit keys a store's entries are signed with.

An entry's hash is `HMAC-SHA256(audit key, prev_hash + canonical JSON)`, so someone who can write the
database but does not hold the key (it lives in the keyring, outside the database) cannot recompute
the chain after changing it. Entries written before audit keys existed (key_id NULL, migration 0005)
were plain SHA-256; they still verify, but only at the start of the chain.

`audit.append` is called from dozens of places with nothing but a Connection, so the keys are not
threaded through every caller: they are bound to the store's Engine where a store is opened for real
use (`create_app`, the CLI's `open_lake`) and found again from `conn.engine`. A store nobody bound
falls back to the public development key only under LINGXI_ENVIRONMENT=test (the test suite opens
stores everywhere); anywhere else it is a ConfigError, so no real entry is ever signed with a public key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

from lingxi.errors import ConfigError
from lingxi.keys import DEV_AUDIT_KEY, Keys

GENESIS_HASH = "0" * 64

#: The audit keys of each open store, or a function that resolves them on first use (the CLI reads
#: the keyring only when a command writes or verifies audit entries).
KeySource = Keys | Callable[[], Keys]
_BOUND: WeakKeyDictionary[Engine, KeySource] = WeakKeyDictionary()
_DEV_KEYS = Keys.single(DEV_AUDIT_KEY)


def bind_keys(store: Engine, keys: KeySource) -> None:
    """Sign the audit entries written through `store` with `keys` (their active key)."""
    _BOUND[store] = keys


def keys_for(store: Engine) -> Keys:
    """The audit keys bound to `store`; the development key in the test environment; else a ConfigError."""
    found = _BOUND.get(store)
    if found is None:
        if os.environ.get("LINGXI_ENVIRONMENT") == "test":
            return _DEV_KEYS
        raise ConfigError(
            "no audit key is bound to this store, so its audit entries cannot be signed",
            hint="call `lingxi.auth.audit.bind_keys(store, settings.keyring().audit)` after connecting",
        )
    if isinstance(found, Keys):
        return found
    keys = found()
    _BOUND[store] = keys
    return keys


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted keys, no spaces, ASCII only: the same bytes on every platform and database."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, canonical: str, secret: str | None) -> str:
    """The hash of an entry: HMAC-SHA256 under `secret`; plain SHA-256 for an entry from before audit keys."""
    data = (prev_hash + canonical).encode("ascii")
    if secret is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign(secret: str, content: dict[str, Any]) -> str:
    """An HMAC-SHA256 signature of `content` (a checkpoint) under an audit key."""
    return hmac.new(secret.encode(), canonical_json(content).encode("ascii"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
