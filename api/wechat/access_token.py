"""One access token per account, shared by every worker process.

The token lives in the database (or Redis when configured).  A worker that finds it stale
takes a short lease-lock and refreshes it through ``cgi-bin/stable_token``, which does not
invalidate the token other workers are still using; the others keep using the old token
(still valid) or wait for the new one, so concurrent workers refresh once.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError

from api.wechat.models import AccessTokenRow
from api.wechat.protocol.client import WeChatApi
from knowledge.db import rows_changed, session_factory
from knowledge.timeutil import as_utc, from_epoch, utcnow

log = logging.getLogger("fazhi.wechat.token")


class TokenUnavailable(Exception):
    """No token could be obtained (WeChat down, wrong secret, lock never released)."""


@dataclass(frozen=True)
class StoredToken:
    token: str
    expires_at: float  # epoch seconds
    refresh_at: float  # when a worker should fetch a new one

    def usable(self, now: float) -> bool:
        return now < self.expires_at - 5

    def fresh(self, now: float) -> bool:
        return self.usable(now) and now < self.refresh_at


def refresh_time(now: float, expires_in: float, margin: float) -> float:
    """Refresh ``margin`` before expiry.  stable_token hands back the *same* token until it
    really expires, so a token that arrives already inside the margin is used until shortly
    before it expires (checking again at most once a minute), not refreshed in a loop."""
    expires_at = now + expires_in
    if expires_in > margin:
        return expires_at - margin
    return min(now + 60, expires_at - 5)


class TokenStore(Protocol):
    def read(self) -> StoredToken | None: ...
    def write(self, token: str, expires_at: float, refresh_at: float) -> None: ...
    def invalidate(self, token: str) -> None: ...
    def try_lock(self, owner: str, ttl_s: float) -> bool: ...
    def unlock(self, owner: str) -> None: ...


class DbTokenStore:
    def __init__(self, engine: Engine, app_id: str) -> None:
        self.app_id = app_id
        self._sessions = session_factory(engine)
        self._ensure_row()

    def _ensure_row(self) -> None:
        try:
            with self._sessions.begin() as s:
                if s.get(AccessTokenRow, self.app_id) is None:
                    s.add(AccessTokenRow(app_id=self.app_id, updated_at=utcnow()))
        except IntegrityError:
            pass  # another worker created it first

    def read(self) -> StoredToken | None:
        with self._sessions() as s:
            row = s.get(AccessTokenRow, self.app_id)
            if row is None or not row.token or row.expires_at is None:
                return None
            expires_at = as_utc(row.expires_at).timestamp()
            refresh_at = as_utc(row.refresh_at).timestamp() if row.refresh_at else expires_at
            return StoredToken(row.token, expires_at, refresh_at)

    def write(self, token: str, expires_at: float, refresh_at: float) -> None:
        with self._sessions.begin() as s:
            s.execute(update(AccessTokenRow).where(AccessTokenRow.app_id == self.app_id)
                      .values(token=token, expires_at=from_epoch(expires_at),
                              refresh_at=from_epoch(refresh_at), updated_at=utcnow()))

    def invalidate(self, token: str) -> None:
        # Compare-and-clear: only the token that failed, never a newer one.
        with self._sessions.begin() as s:
            s.execute(update(AccessTokenRow).where(AccessTokenRow.app_id == self.app_id,
                                                   AccessTokenRow.token == token)
                      .values(token=None, expires_at=None, updated_at=utcnow()))

    def try_lock(self, owner: str, ttl_s: float) -> bool:
        now = utcnow()
        with self._sessions.begin() as s:
            result = s.execute(
                update(AccessTokenRow)
                .where(AccessTokenRow.app_id == self.app_id,
                       or_(AccessTokenRow.lock_until.is_(None), AccessTokenRow.lock_until < now))
                .values(lock_owner=owner, lock_until=from_epoch(now.timestamp() + ttl_s)))
            return rows_changed(result) == 1

    def unlock(self, owner: str) -> None:
        with self._sessions.begin() as s:
            s.execute(update(AccessTokenRow).where(AccessTokenRow.app_id == self.app_id,
                                                   AccessTokenRow.lock_owner == owner)
                      .values(lock_owner=None, lock_until=None))


class RedisTokenStore:
    # Release only our own lock (a lock that expired may belong to someone else now).
    _UNLOCK = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
               "return redis.call('del', KEYS[1]) else return 0 end")
    _INVALIDATE = ("local v = redis.call('get', KEYS[1]); if v and cjson.decode(v)['token'] == "
                   "ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end")

    def __init__(self, redis_url: str, app_id: str, prefix: str = "fazhi:wx") -> None:
        import redis  # only needed when configured

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)
        self._key = f"{prefix}:token:{app_id}"
        self._lock = f"{prefix}:token-lock:{app_id}"

    def read(self) -> StoredToken | None:
        raw = self._redis.get(self._key)
        if not raw:
            return None
        data = json.loads(raw)
        return StoredToken(data["token"], float(data["expires_at"]), float(data["refresh_at"]))

    def write(self, token: str, expires_at: float, refresh_at: float) -> None:
        payload = json.dumps({"token": token, "expires_at": expires_at, "refresh_at": refresh_at})
        self._redis.set(self._key, payload, exat=int(expires_at) + 1)

    def invalidate(self, token: str) -> None:
        self._redis.eval(self._INVALIDATE, 1, self._key, token)

    def try_lock(self, owner: str, ttl_s: float) -> bool:
        return bool(self._redis.set(self._lock, owner, nx=True, px=int(ttl_s * 1000)))

    def unlock(self, owner: str) -> None:
        self._redis.eval(self._UNLOCK, 1, self._lock, owner)


class AccessTokenManager:
    def __init__(self, store: TokenStore, api: WeChatApi, margin_s: float = 300,
                 lock_ttl_s: float = 15, wait_s: float = 10) -> None:
        self.store = store
        self.api = api
        self.margin_s = margin_s
        self.lock_ttl_s = lock_ttl_s
        self.wait_s = wait_s
        self.owner = uuid.uuid4().hex
        self.refreshes = 0  # how many times this worker called stable_token

    def get(self, avoid: str | None = None) -> str:
        """A usable token; ``avoid`` is a token WeChat just rejected (40001/42001)."""
        deadline = time.monotonic() + self.wait_s
        while True:
            now = time.time()
            current = self.store.read()
            if current and current.token != avoid and current.fresh(now):
                return current.token
            if self.store.try_lock(self.owner, self.lock_ttl_s):
                try:
                    return self._refresh_locked(avoid)
                finally:
                    self.store.unlock(self.owner)
            # Someone else is refreshing.  The old token stays valid meanwhile (stable_token
            # does not revoke it), so use it unless it is the one that was just rejected.
            if current and current.token != avoid and current.usable(now):
                return current.token
            if time.monotonic() > deadline:
                raise TokenUnavailable("timed out waiting for another worker's token refresh")
            time.sleep(0.05)

    def _refresh_locked(self, avoid: str | None) -> str:
        current = self.store.read()  # re-check: the previous lock holder may have refreshed
        now = time.time()
        if current and current.token != avoid and current.fresh(now):
            return current.token
        token, expires_in = self.api.stable_token(force_refresh=False)
        self.refreshes += 1
        if token == avoid:
            # WeChat still hands out the token it just rejected: force a new one.
            token, expires_in = self.api.stable_token(force_refresh=True)
            self.refreshes += 1
        now = time.time()
        self.store.write(token, now + expires_in, refresh_time(now, expires_in, self.margin_s))
        log.info("access token refreshed (expires in %d s)", expires_in)
        return token

    def invalidate(self, token: str) -> None:
        self.store.invalidate(token)


def make_token_store(engine: Engine, app_id: str, redis_url: str = "") -> TokenStore:
    if redis_url:
        return RedisTokenStore(redis_url, app_id)
    return DbTokenStore(engine, app_id)
