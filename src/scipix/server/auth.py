"""Who is calling: ``app_id`` + ``app_key`` headers, an ``app_token``, or (only when the config
says ``server.auth = "none_on_loopback"``) nobody, from a loopback address.

Every authenticated request is then counted against its key's per-minute limit.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

from starlette.datastructures import Headers

from scipix.errors import AuthError, TokenError
from scipix.server.keys import ApiKey, KeyStore
from scipix.server.ledger import Ledger
from scipix.settings import ServerSettings

LOCAL_APP_ID = "local"


class Credential(Enum):
    """What a route accepts, following Mathpix's authentication table."""

    KEY = "app_id + app_key"
    KEY_OR_TOKEN = "app_id + app_key, or app_token"
    APP_KEY = "app_key (app_id optional)"


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    app_id: str
    key: ApiKey | None  # None: the explicit no-auth loopback mode
    via_token: bool = False

    def history_enabled(self, server_history: bool) -> bool:
        return server_history and (self.key is None or self.key.history)

    def rate_limit(self, default: int) -> int:
        if self.key is not None and self.key.rate_limit_per_minute is not None:
            return self.key.rate_limit_per_minute
        return default


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


class Authenticator:
    def __init__(self, keys: KeyStore, ledger: Ledger, settings: ServerSettings) -> None:
        self.keys = keys
        self.ledger = ledger
        self.settings = settings

    def identify(self, headers: Headers, client_host: str | None, accepts: Credential) -> Principal:
        """The principal of a request, or :class:`AuthError` (HTTP 401)."""
        app_id = headers.get("app_id", "")
        app_key = headers.get("app_key", "")
        app_token = headers.get("app_token", "")
        if app_token and not app_key:
            if accepts is not Credential.KEY_OR_TOKEN:
                raise TokenError(f"app_token is not accepted here: send {accepts.value}")
            key = self.keys.verify_token(app_token)
            return Principal(key.app_id, key, via_token=True)
        if app_key and app_id:
            key = self.keys.verify(app_id, app_key)
            return Principal(key.app_id, key)
        if app_key and accepts is Credential.APP_KEY:
            key = self.keys.verify_key_only(app_key)
            return Principal(key.app_id, key)
        if not (app_id or app_key) and self.local_allowed(client_host):
            return Principal(LOCAL_APP_ID, None)
        raise AuthError(f"Missing credentials: send the headers {accepts.value}")

    def local_allowed(self, client_host: str | None) -> bool:
        return self.settings.auth == "none_on_loopback" and is_loopback(client_host)

    def admit(self, principal: Principal) -> None:
        """Count the request; :class:`~scipix.errors.RateLimitError` (HTTP 429) past the limit."""
        self.ledger.admit(
            principal.app_id, principal.rate_limit(self.settings.rate_limit_per_minute)
        )
