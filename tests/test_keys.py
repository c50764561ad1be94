"""The keyring (finding F7): random keys per data directory, never the public one outside tests, rotation."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lingxi.errors import ConfigError
from lingxi.keys import DEV_AUDIT_KEY, DEV_HASH_KEY, Keys, create_file, key_id, read_file, resolve, rotate


def test_a_new_keyring_holds_random_keys_readable_by_its_owner_only(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "keyring.json", tmp_path / "b" / "keyring.json"
    assert create_file(first) and create_file(second)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    one, two = read_file(first), read_file(second)
    assert one["hash"].active != two["hash"].active  # one key per data directory, not one per release
    assert one["hash"].active not in (DEV_HASH_KEY, DEV_AUDIT_KEY) and one["audit"].active != one["hash"].active
    assert len(one["hash"].active) == 64  # 256 random bits


def test_init_never_replaces_keys_data_was_hashed_with(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_file(path)
    before = path.read_bytes()
    assert not create_file(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_public_development_keys_are_refused_outside_tests(tmp_path: Path, environment: str) -> None:
    missing = tmp_path / "keyring.json"
    with pytest.raises(ConfigError, match="no hash key") as e:
        resolve(missing, hash_key=None, audit_key=None, environment=environment)
    assert "lingxi init" in (e.value.hint or "")
    with pytest.raises(ConfigError, match="public development key"):
        resolve(missing, hash_key=DEV_HASH_KEY, audit_key="a-real-secret", environment=environment)
    test = resolve(missing, hash_key=None, audit_key=None, environment="test")
    assert test.hash.active == DEV_HASH_KEY and test.audit.active == DEV_AUDIT_KEY


def test_a_keyring_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by other users") as e:
        resolve(path, hash_key=None, audit_key=None, environment="production")
    assert "chmod 600" in (e.value.hint or "")


def test_a_key_given_directly_is_active_and_the_files_keys_still_match(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_file(path)
    old = read_file(path)["hash"]
    ring = resolve(path, hash_key="from-the-key-manager", audit_key=None, environment="production")
    assert ring.hash_key == "from-the-key-manager" and ring.hash.active_id == key_id("from-the-key-manager")
    assert ring.hash.secret(old.active_id) == old.active


def test_rotation_adds_an_active_key_and_keeps_the_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_file(path)
    before = read_file(path)
    new_id = rotate(path, "hash")
    after = read_file(path)
    assert after["hash"].active_id == new_id != before["hash"].active_id
    assert after["hash"].secret(before["hash"].active_id) == before["hash"].active
    assert after["audit"] == before["audit"]  # rotating one kind leaves the other alone
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert all("secret" in e for e in json.loads(path.read_text())["hash"])


def test_a_missing_key_is_named_not_guessed() -> None:
    keys = Keys.single("k-one")
    with pytest.raises(ConfigError, match="key `kdeadbeef0000` is not in the keyring"):
        keys.secret("kdeadbeef0000")


def test_key_ids_are_fingerprints_that_do_not_reveal_the_secret() -> None:
    assert key_id("s1") == key_id("s1") != key_id("s2")
    assert key_id("s1").startswith("k") and len(key_id("s1")) == 13 and "s1" not in key_id("s1")
