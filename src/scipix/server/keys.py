"""API keys and app tokens: created, listed, revoked and verified against SHA-256 hashes.

A key is a pair ``app_id`` (public, like a user name) and ``app_key`` (secret, 256 random bits).
Only ``sha256(app_key)`` is stored; the key itself is shown once, when created. Verification
compares hashes with :func:`hmac.compare_digest`, and hashes a dummy key when the app_id does not
exist, so the time taken does not tell whether an app_id exists. App tokens (Mathpix's short-lived
client-side credentials, ``token_<hex>``) are stored the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from scipix.errors import AuthError, ConfigError, TokenError
from scipix.server.store import Database

_DUMMY_HASH = hashlib.sha256(b"scipix: no such key").hexdigest()
APP_TOKEN_PREFIX = "token_"
STROKES_SESSION_PREFIX = "strokes_"


def hash_secret(secret: str) -> str:
    """The stored form of a key or token: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    app_id: str
    name: str
    created_at: float
    revoked_at: float | None
    rate_limit_per_minute: int | None
    history: bool

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, object]:
        return {
            "app_id": self.app_id,
            "name": self.name,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "rate_limit_per_minute": self.rate_limit_per_minute,
            "history": self.history,
        }


@dataclass(frozen=True)
class NewKey:
    """A key just created: the only moment its ``app_key`` is known."""

    key: ApiKey
    app_key: str


@dataclass(frozen=True)
class AppToken:
    app_token: str
    app_id: str
    expires_at: float
    user_id: str | None
    strokes_session_id: str | None

    def to_mathpix(self) -> dict[str, object]:
        body: dict[str, object] = {
            "app_token": self.app_token,
            "app_token_expires_at": int(self.expires_at * 1000),
        }
        if self.strokes_session_id is not None:
            body["strokes_session_id"] = self.strokes_session_id
        return body


def _row_to_key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        app_id=row["app_id"],
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        rate_limit_per_minute=row["rate_limit_per_minute"],
        history=bool(row["history"]),
    )


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug[:32] or "key"


class KeyStore:
    """Keys and app tokens in the server database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- keys -------------------------------------------------------------------------------
    def create(
        self, name: str, rate_limit_per_minute: int | None = None, history: bool = True
    ) -> NewKey:
        if not name.strip():
            raise ConfigError("a key needs a name: scipix keys create --name NAME")
        if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
            raise ConfigError(
                f"rate limit must be >= 1 request a minute, got {rate_limit_per_minute}"
            )
        app_key = secrets.token_hex(32)
        app_id = f"{_slug(name)}_{secrets.token_hex(4)}"
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO keys (app_id, name, key_hash, created_at, rate_limit_per_minute,"
                " history) VALUES (?, ?, ?, ?, ?, ?)",
                (app_id, name, hash_secret(app_key), now, rate_limit_per_minute, int(history)),
            )
        key = ApiKey(app_id, name, now, None, rate_limit_per_minute, history)
        return NewKey(key=key, app_key=app_key)

    def list(self, include_revoked: bool = True) -> list[ApiKey]:
        sql = "SELECT * FROM keys"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = self.db.connection().execute(sql + " ORDER BY created_at").fetchall()
        return [_row_to_key(row) for row in rows]

    def get(self, app_id: str) -> ApiKey:
        row = self.db.connection().execute("SELECT * FROM keys WHERE app_id = ?", (app_id,))
        found = row.fetchone()
        if found is None:
            raise ConfigError(f"no key with app_id {app_id!r}; `scipix keys list` shows them")
        return _row_to_key(found)

    def revoke(self, app_id: str) -> ApiKey:
        """Revoke a key (kept for its history; never usable again) and its app tokens."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE keys SET revoked_at = ? WHERE app_id = ? AND revoked_at IS NULL",
                (time.time(), app_id),
            )
            conn.execute("DELETE FROM app_tokens WHERE app_id = ?", (app_id,))
        return self.get(app_id)

    def update(
        self, app_id: str, *, history: bool | None = None, rate_limit_per_minute: int | None = None
    ) -> ApiKey:
        self.get(app_id)
        with self.db.write() as conn:
            if history is not None:
                conn.execute("UPDATE keys SET history = ? WHERE app_id = ?", (int(history), app_id))
            if rate_limit_per_minute is not None:
                conn.execute(
                    "UPDATE keys SET rate_limit_per_minute = ? WHERE app_id = ?",
                    (rate_limit_per_minute, app_id),
                )
        return self.get(app_id)

    # -- verification -----------------------------------------------------------------------
    def verify(self, app_id: str, app_key: str) -> ApiKey:
        """The key for this pair, or :class:`AuthError` (never says which half was wrong)."""
        row = self.db.connection().execute("SELECT * FROM keys WHERE app_id = ?", (app_id,))
        found = row.fetchone()
        stored = found["key_hash"] if found is not None else _DUMMY_HASH
        matches = hmac.compare_digest(hash_secret(app_key), stored)
        if found is None or not matches:
            raise AuthError("Invalid credentials: app_id or app_key is wrong")
        return self._active(_row_to_key(found))

    def verify_key_only(self, app_key: str) -> ApiKey:
        """Routes that Mathpix authenticates with ``app_key`` alone (ocr-results, app-tokens)."""
        digest = hash_secret(app_key)
        row = self.db.connection().execute("SELECT * FROM keys WHERE key_hash = ?", (digest,))
        found = row.fetchone()
        stored = found["key_hash"] if found is not None else _DUMMY_HASH
        if found is None or not hmac.compare_digest(digest, stored):
            raise AuthError("Invalid credentials: app_key is wrong")
        return self._active(_row_to_key(found))

    @staticmethod
    def _active(key: ApiKey) -> ApiKey:
        if not key.active:
            raise AuthError(f"Invalid credentials: the key {key.app_id} was revoked")
        return key

    # -- app tokens -------------------------------------------------------------------------
    def create_token(
        self,
        key: ApiKey,
        expires_s: float,
        user_id: str | None = None,
        strokes_session: bool = False,
    ) -> AppToken:
        token = APP_TOKEN_PREFIX + secrets.token_hex(16)
        session = STROKES_SESSION_PREFIX + secrets.token_hex(16) if strokes_session else None
        now = time.time()
        with self.db.write() as conn:
            conn.execute("DELETE FROM app_tokens WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO app_tokens (token_hash, app_id, created_at, expires_at, user_id,"
                " strokes_session_id) VALUES (?, ?, ?, ?, ?, ?)",
                (hash_secret(token), key.app_id, now, now + expires_s, user_id, session),
            )
        return AppToken(token, key.app_id, now + expires_s, user_id, session)

    def _token_row(self, token: str) -> sqlite3.Row | None:
        digest = hash_secret(token)
        cur = self.db.connection().execute(
            "SELECT * FROM app_tokens WHERE token_hash = ?", (digest,)
        )
        row: sqlite3.Row | None = cur.fetchone()
        if row is None or not hmac.compare_digest(digest, row["token_hash"]):
            return None
        return row

    def verify_token(self, token: str) -> ApiKey:
        """The key behind an app token; an unknown token is refused, an expired one is a 401."""
        row = self._token_row(token)
        if row is None:
            raise TokenError("Invalid app_token")
        if row["expires_at"] < time.time():
            raise AuthError("Expired app_token: request a new one from POST /v3/app-tokens")
        return self._active(self.get(row["app_id"]))

    def get_token(self, key: ApiKey, token: str) -> AppToken | None:
        row = self._token_row(token)
        if row is None or row["app_id"] != key.app_id:
            return None
        return AppToken(
            token, row["app_id"], row["expires_at"], row["user_id"], row["strokes_session_id"]
        )

    def delete_token(self, key: ApiKey, token: str) -> AppToken | None:
        found = self.get_token(key, token)
        if found is not None:
            with self.db.write() as conn:
                conn.execute("DELETE FROM app_tokens WHERE token_hash = ?", (hash_secret(token),))
        return found
