"""The key store: SHA-256 hashes only, verification, revocation, app tokens."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from scipix.errors import AuthError, ConfigError, TokenError
from scipix.server.keys import KeyStore, hash_secret
from scipix.server.store import DB_FILE_NAME, Database


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(Database.in_dir(tmp_path))


def test_the_database_holds_only_the_hash_of_a_key(store: KeyStore, tmp_path: Path) -> None:
    new = store.create("alice")
    raw = (tmp_path / DB_FILE_NAME).read_bytes()
    wal = tmp_path / (DB_FILE_NAME + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert new.app_key.encode() not in raw
    row = sqlite3.connect(tmp_path / DB_FILE_NAME).execute("SELECT key_hash FROM keys").fetchone()
    assert row[0] == hash_secret(new.app_key)
    assert len(new.app_key) == 64 and new.key.app_id.startswith("alice_")


def test_a_key_verifies_and_a_wrong_one_does_not(store: KeyStore) -> None:
    new = store.create("bob")
    assert store.verify(new.key.app_id, new.app_key).app_id == new.key.app_id
    assert store.verify_key_only(new.app_key).app_id == new.key.app_id
    wrong_last = "1" if new.app_key.endswith("0") else "0"  # never the key itself
    with pytest.raises(AuthError):
        store.verify(new.key.app_id, new.app_key[:-1] + wrong_last)
    with pytest.raises(AuthError):
        store.verify("nobody_1234", new.app_key)
    with pytest.raises(AuthError):
        store.verify_key_only("0" * 64)
    other = store.create("carol")
    with pytest.raises(AuthError):  # a real key of another app_id
        store.verify(new.key.app_id, other.app_key)


def test_a_revoked_key_is_refused_and_its_tokens_die(store: KeyStore) -> None:
    new = store.create("dave")
    token = store.create_token(new.key, 300)
    revoked = store.revoke(new.key.app_id)
    assert revoked.revoked_at is not None and not revoked.active
    with pytest.raises(AuthError, match="revoked"):
        store.verify(new.key.app_id, new.app_key)
    with pytest.raises(TokenError):
        store.verify_token(token.app_token)
    assert [k.app_id for k in store.list(include_revoked=False)] == []
    with pytest.raises(ConfigError):
        store.revoke("no_such_app")


def test_app_tokens_expire(store: KeyStore) -> None:
    new = store.create("erin")
    token = store.create_token(new.key, 0.2, user_id="u1")
    assert token.app_token.startswith("token_")
    assert store.verify_token(token.app_token).app_id == new.key.app_id
    time.sleep(0.3)
    with pytest.raises(AuthError) as err:
        store.verify_token(token.app_token)
    assert err.value.error_id == "http_unauthorized"
    with pytest.raises(TokenError):
        store.verify_token("token_" + "0" * 32)


def test_keys_survive_reopening_and_settings_stay(tmp_path: Path) -> None:
    first = KeyStore(Database.in_dir(tmp_path))
    new = first.create("frank", rate_limit_per_minute=5, history=False)
    first.db.close()
    again = KeyStore(Database.in_dir(tmp_path))
    key = again.verify(new.key.app_id, new.app_key)
    assert key.rate_limit_per_minute == 5 and key.history is False
    changed = again.update(key.app_id, history=True, rate_limit_per_minute=9)
    assert changed.history and changed.rate_limit_per_minute == 9
    assert again.db.integrity_check() == "ok"


def test_a_name_is_required(store: KeyStore) -> None:
    with pytest.raises(ConfigError):
        store.create("   ")
