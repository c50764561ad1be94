"""The keyring: the secrets behind keyed hashes of identifiers and behind the audit chain, kept outside the database.

Two kinds of key, each a list in which one is active:

- **hash** keys: HMAC-SHA256 of sensitive identifiers (ID and phone numbers in the lake, subject
  references in the audit log and the erasure registry, identifiers of erased customers). New hashes
  use the active key; the others stay so that what was hashed before a rotation still matches.
- **audit** keys: the HMAC of the audit chain and the signature of its checkpoints.

A key is known by its id, a fingerprint of the secret (`k` + 12 hex digits), so the id stored beside a
keyed hash names its key without naming the secret, and a key given by environment variable gets the
same id in every process. `lingxi init` writes a random keyring per data directory (`keyring.json`,
file mode 600); `LINGXI_KEYRING_FILE` points elsewhere (a secrets mount), and `LINGXI_HASH_KEY` /
`LINGXI_AUDIT_KEY` give the active key directly (a key manager). The public development keys below are
refused unless `LINGXI_ENVIRONMENT=test`. docs/security.md explains rotation.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lingxi.errors import ConfigError

#: Public keys for tests only: anyone can recompute a hash made with them (COMPLIANCE R22).
DEV_HASH_KEY = "lingxi-development-key-change-me"
DEV_AUDIT_KEY = "lingxi-development-audit-key-change-me"

KeyKind = Literal["hash", "audit"]
KINDS: tuple[KeyKind, ...] = ("hash", "audit")
FORMAT = 1


def key_id(secret: str) -> str:
    """The public id of a key: a fingerprint that cannot be turned back into the secret."""
    return "k" + hashlib.sha256(b"lingxi-key-id:" + secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Keys:
    """The keys of one kind: every secret by id, and which one new hashes use."""

    active_id: str
    secrets: Mapping[str, str]

    @classmethod
    def single(cls, secret: str) -> Keys:
        return cls(key_id(secret), {key_id(secret): secret})

    @classmethod
    def of(cls, keys: Keys | str) -> Keys:
        """`keys` itself, or one secret as a keyring of one (library callers may pass a plain key)."""
        return keys if isinstance(keys, Keys) else cls.single(keys)

    @property
    def active(self) -> str:
        return self.secrets[self.active_id]

    def secret(self, kid: str) -> str:
        """The secret of key `kid`; a ConfigError when the keyring lacks it (a key was removed or not restored)."""
        try:
            return self.secrets[kid]
        except KeyError:
            raise ConfigError(
                f"key `{kid}` is not in the keyring, but data was hashed or signed with it",
                hint="restore the keyring file that holds it (keys are never removed; see docs/security.md)",
            ) from None


#: What a library function takes for hashing: one key, or the hash keys of a keyring (new hashes use the
#: active one; matching against stored hashes tries every one).
HashKey = Keys | str


@dataclass(frozen=True)
class Keyring:
    """The hash keys and the audit keys of one installation."""

    hash: Keys
    audit: Keys
    path: Path | None = field(default=None, compare=False)

    @property
    def hash_key(self) -> str:
        """The active hash key, for code that only makes new hashes."""
        return self.hash.active

    @classmethod
    def for_tests(cls) -> Keyring:
        return cls(Keys.single(DEV_HASH_KEY), Keys.single(DEV_AUDIT_KEY))


def _new_secret() -> str:
    return secrets.token_hex(32)


def _entry(secret: str, *, active: bool) -> dict[str, object]:
    return {"id": key_id(secret), "secret": secret, "created": datetime.now(UTC).isoformat(), "active": active}


def read_file(path: Path) -> dict[KeyKind, Keys]:
    """The keys a keyring file holds, by kind; refuses a file others can read."""
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"keyring file {path} can be read by other users (mode {mode:o})",
                hint=f"run `chmod 600 {path}`",
            )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        found: dict[KeyKind, Keys] = {}
        for kind in KINDS:
            entries = doc.get(kind, [])
            if not entries:
                continue
            by_id = {key_id(e["secret"]): e["secret"] for e in entries}
            active = [key_id(e["secret"]) for e in entries if e.get("active")]
            if len(active) != 1:
                raise ValueError(f"{len(active)} active {kind} keys (exactly one must be active)")
            found[kind] = Keys(active[0], by_id)
        return found
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(
            f"keyring file {path} is not readable: {e}",
            hint="restore it from your backup; `lingxi keys list` shows a healthy keyring",
        ) from None


def _write_file(path: Path, doc: dict[str, object]) -> None:
    """Write atomically with mode 600 from the start (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def create_file(path: Path) -> bool:
    """A new keyring with one random key of each kind; False (and nothing changed) when one exists."""
    if path.exists():
        return False
    _write_file(path, {"format": FORMAT, **{kind: [_entry(_new_secret(), active=True)] for kind in KINDS}})
    return True


def rotate(path: Path, kind: KeyKind) -> str:
    """Add a random key of `kind` and make it the active one; the old keys stay. Returns the new key's id."""
    read_file(path)  # refuses a broken or exposed file before it is rewritten
    doc = json.loads(path.read_text(encoding="utf-8"))
    entries = [{**e, "active": False} for e in doc.get(kind, [])]
    new = _entry(_new_secret(), active=True)
    doc[kind] = [*entries, new]
    _write_file(path, doc)
    return str(new["id"])


def describe(path: Path) -> list[dict[str, object]]:
    """Every key of the file without its secret: kind, id, created, active."""
    read_file(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [
        {"kind": kind, "id": key_id(e["secret"]), "created": e.get("created"), "active": bool(e.get("active"))}
        for kind in KINDS
        for e in doc.get(kind, [])
    ]


def resolve(path: Path, *, hash_key: str | None, audit_key: str | None, environment: str) -> Keyring:
    """The keyring an installation runs with: the file's keys, with a directly given key as the active one.

    Without any key, or with a public development key, only the test environment may run (the
    development keys then serve); everywhere else the error says how to get a keyring.
    """
    found = read_file(path) if path.exists() else {}
    given = {"hash": hash_key, "audit": audit_key}
    defaults = {"hash": DEV_HASH_KEY, "audit": DEV_AUDIT_KEY}
    chosen: dict[str, Keys] = {}
    for kind in KINDS:
        keys = found.get(kind)
        direct = given[kind]
        if direct:
            keys = Keys(key_id(direct), {**(keys.secrets if keys else {}), key_id(direct): direct})
        if keys is None:
            if environment != "test":
                raise ConfigError(
                    f"no {kind} key: there is no keyring at {path}",
                    hint="run `lingxi init` to create one for this data directory, "
                    f"or set LINGXI_KEYRING_FILE or LINGXI_{kind.upper()}_KEY",
                )
            keys = Keys.single(defaults[kind])
        if keys.active == defaults[kind] and environment != "test":
            raise ConfigError(
                f"the {kind} key is the public development key",
                hint=f"unset LINGXI_{kind.upper()}_KEY and run `lingxi init` for a random keyring "
                "(the development keys are for LINGXI_ENVIRONMENT=test only)",
            )
        chosen[kind] = keys
    return Keyring(chosen["hash"], chosen["audit"], path)
