"""UTC helpers: SQLite hands back naive datetimes for timezone-aware columns."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def from_epoch(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


#: Times shown to residents and staff, and report dates (China has no daylight saving).
CHINA_TZ = timezone(timedelta(hours=8), "CST")


def china_days(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) covering the calendar days ``first`` to ``last`` in Beijing time."""
    start = datetime.combine(first, time.min, CHINA_TZ)
    end = datetime.combine(last + timedelta(days=1), time.min, CHINA_TZ)
    return start, end


def parse_day(text: str) -> date:
    """A calendar day written YYYY-MM-DD (ValueError with a message staff can read)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{text}") from exc
