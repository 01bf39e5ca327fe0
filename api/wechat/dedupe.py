"""Deduplication of WeChat's retries across processes.

The authority is the unique ``wx_inbound.dedupe_key``: the insert of a retry fails, in any
process.  With Redis configured, a ``SET NX`` in front answers most retries without touching
the database; if Redis is down we fall back to the database alone (logged, not fatal).
"""
from __future__ import annotations

import logging

log = logging.getLogger("fazhi.wechat.dedupe")

TTL_S = 24 * 3600  # WeChat retries within ~15 s; a day is ample and bounded


class RedisDedupe:
    def __init__(self, redis_url: str, prefix: str = "fazhi:wx:seen") -> None:
        import redis  # optional dependency path

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix

    def first_time(self, key: str) -> bool | None:
        """True: first sighting; False: seen before; None: Redis unavailable (ask the DB)."""
        try:
            return bool(self._redis.set(f"{self._prefix}:{key}", 1, nx=True, ex=TTL_S))
        except Exception as exc:  # any Redis failure degrades to the DB path
            log.warning("redis dedupe unavailable: %s", type(exc).__name__)
            return None

    def forget(self, key: str) -> None:
        """Undo a claim whose database insert did not happen (so a retry is not lost)."""
        try:
            self._redis.delete(f"{self._prefix}:{key}")
        except Exception:
            pass
