"""UTC helpers: SQLite hands back naive datetimes for timezone-aware columns."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def from_epoch(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)
