"""The on-duty roster: who works the queue now, and how fast the queue moves with them.

A staff member is on duty now when they marked themselves on duty in the console (the
toggle), or when the weekly schedule an admin set has them on now (Beijing time).  Until an
office uses the roster at all (nobody ever toggled, no shift scheduled), every active lawyer
counts as on duty.  ``capacity`` (lawyers on duty plus the measured handling time) is what the
resident's expected wait (``intake.expected_wait``) and the deadline forecast
(``forecast``, read by the early-warning rules) both work from.  The schema is created by
migration ``0010_alerts_roster``.
"""
from __future__ import annotations

import heapq
import math
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Boolean, DateTime, Engine, ForeignKey, Integer, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.queue.lifecycle import PENDING_STATES
from assistant.queue.models import Priority, Ticket
from assistant.queue.staff import Role, User
from knowledge.db import Base, rows_changed, session_factory
from knowledge.timeutil import CHINA_TZ, as_utc, utcnow

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")  # datetime.weekday() order
DAY_MINUTES = 24 * 60
HANDLING_WINDOW = timedelta(days=14)
MIN_HANDLING_SAMPLES = 5  # fewer claim-to-reply times than this say too little
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class DutyStatus(Base):
    """The console toggle: a staff member marked themselves on (or off) duty."""

    __tablename__ = "duty_status"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DutyShift(Base):
    """One weekly shift: ``weekday`` (0 = Monday), minutes after midnight Beijing time,
    ``start_minute`` included, ``end_minute`` excluded."""

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvalidShift(ValueError):
    """A shift that cannot be scheduled; the message is fit to show to staff."""


class ShiftNotFound(LookupError):
    def __init__(self, shift_id: int) -> None:
        super().__init__(f"没有这个排班：{shift_id}")


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int:
    """"09:30" -> 570; "24:00" is the end of the day."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise InvalidShift(f"时间格式应为 HH:MM：{text.strip() or '（空）'}")
    minute = int(match.group(1)) * 60 + int(match.group(2))
    if minute > DAY_MINUTES:
        raise InvalidShift(f"时间不能晚于 24:00：{text.strip()}")
    return minute


@dataclass(frozen=True)
class Shift:
    id: int
    user_id: int
    weekday: int
    start_minute: int
    end_minute: int

    @property
    def hours(self) -> str:
        return f"{clock(self.start_minute)}–{clock(self.end_minute)}"

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hours}"

    def covers(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.weekday() == self.weekday and self.start_minute <= minute < self.end_minute


def _shift(row: DutyShift) -> Shift:
    return Shift(row.id, row.user_id, row.weekday, row.start_minute, row.end_minute)


# -- who is on duty (inside a caller's session) -------------------------------------------
def in_use(s: Session) -> bool:
    """Whether the office uses the roster: someone toggled once, or a shift exists."""
    return bool(s.scalar(select(DutyStatus.user_id).limit(1)) is not None
                or s.scalar(select(DutyShift.id).limit(1)) is not None)


def shifts(s: Session, user_id: int | None = None) -> list[Shift]:
    stmt = select(DutyShift).order_by(DutyShift.weekday, DutyShift.start_minute, DutyShift.id)
    if user_id is not None:
        stmt = stmt.where(DutyShift.user_id == user_id)
    return [_shift(r) for r in s.scalars(stmt)]


def _active_ids(s: Session, lawyers_only: bool = False) -> set[int]:
    stmt = select(User.id).where(User.active.is_(True))
    if lawyers_only:
        stmt = stmt.where(User.role == Role.LAWYER)
    return set(s.scalars(stmt))


def toggled_ids(s: Session) -> set[int]:
    return set(s.scalars(select(DutyStatus.user_id).where(DutyStatus.on_duty.is_(True))))


def scheduled_ids(s: Session, now: datetime, all_shifts: list[Shift] | None = None) -> set[int]:
    local = as_utc(now).astimezone(CHINA_TZ)
    return {sh.user_id for sh in (all_shifts if all_shifts is not None else shifts(s))
            if sh.covers(local)}


def on_duty_ids(s: Session, now: datetime | None = None) -> set[int]:
    """Active staff on duty now: toggled on, or scheduled now (every active lawyer while the
    office does not use the roster)."""
    now = now or utcnow()
    if not in_use(s):
        return _active_ids(s, lawyers_only=True)
    return (toggled_ids(s) | scheduled_ids(s, now)) & _active_ids(s)


def next_shift_start(s: Session, now: datetime) -> tuple[datetime, int] | None:
    """When the next scheduled shift of an active account starts (within a week), and how
    many are scheduled then; None without any shift."""
    active = _active_ids(s)
    all_shifts = [sh for sh in shifts(s) if sh.user_id in active]
    local = as_utc(now).astimezone(CHINA_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [midnight + timedelta(days=d, minutes=sh.start_minute)
              for d in range(8) for sh in all_shifts
              if (local.weekday() + d) % 7 == sh.weekday]
    future = [t for t in starts if t > local]
    if not future:
        return None
    first = min(future)
    return first.astimezone(UTC), len(scheduled_ids(s, first, all_shifts))


# -- capacity and the forecast ---------------------------------------------------------------
def handling_minutes(s: Session, now: datetime) -> float | None:
    """The measured handling time: the median from a lawyer's claim to their first response
    over the last two weeks (None with fewer than ``MIN_HANDLING_SAMPLES``)."""
    rows = s.execute(select(Ticket.claimed_at, Ticket.first_response_at)
                     .where(Ticket.first_response_at >= now - HANDLING_WINDOW,
                            Ticket.first_response_at <= now, Ticket.claimed_at.is_not(None))
                     .order_by(Ticket.first_response_at.desc()).limit(200)).all()
    samples = [max(0.0, (as_utc(r.first_response_at) - as_utc(r.claimed_at)).total_seconds() / 60)
               for r in rows]
    if len(samples) < MIN_HANDLING_SAMPLES:
        return None
    return max(1.0, statistics.median(samples))  # never promise less than a minute


@dataclass(frozen=True)
class Capacity:
    """What the queue can do now."""

    roster: bool  # the office uses the roster (else: every active lawyer counts)
    on_duty: int  # staff on duty now
    handling_minutes: float | None  # measured; None without enough history
    next_start: datetime | None = None  # with nobody on duty: when the next shift starts
    next_count: int = 0  # and how many start then

    def first_response(self, position: int, now: datetime,
                       fallback_minutes: float | None = None) -> datetime | None:
        """When the ticket with ``position`` tickets ahead of it gets its first response,
        with the lawyers on duty each handling one ticket at a time; None when nobody is
        on duty or scheduled (or nothing is measured and no fallback is given)."""
        minutes = self.handling_minutes or fallback_minutes
        if minutes is None:
            return None
        if self.on_duty > 0:
            start, lawyers = now, self.on_duty
        elif self.next_start is not None and self.next_count > 0:
            start, lawyers = self.next_start, self.next_count
        else:
            return None
        return start + timedelta(minutes=(position // lawyers + 1) * minutes)


def capacity(s: Session, now: datetime | None = None) -> Capacity:
    now = now or utcnow()
    used = in_use(s)
    on_duty = len(on_duty_ids(s, now))
    nxt = next_shift_start(s, now) if used and on_duty == 0 else None
    return Capacity(used, on_duty, handling_minutes(s, now),
                    nxt[0] if nxt else None, nxt[1] if nxt else 0)


@dataclass(frozen=True)
class TicketForecast:
    ticket_id: int
    ticket_no: str
    priority: str
    deadline_at: datetime | None
    expected_at: datetime | None  # None: nobody on duty or scheduled to answer it

    @property
    def misses(self) -> bool:
        if self.deadline_at is None:
            return False
        return self.expected_at is None or self.expected_at > self.deadline_at


def forecast(s: Session, now: datetime | None = None,
             fallback_minutes: float | None = None) -> tuple[Capacity, list[TicketForecast]]:
    """The expected first response of every ticket still waiting for one, in the order the
    queue works them (those a lawyer holds, then emergencies, then by deadline), with the
    lawyers on duty and the measured handling time (``fallback_minutes`` until measured)."""
    now = now or utcnow()
    cap = capacity(s, now)
    rows = s.execute(select(Ticket.id, Ticket.ticket_no, Ticket.priority, Ticket.deadline_at,
                            Ticket.claimed_by)
                     .where(Ticket.status.in_(PENDING_STATES), Ticket.first_response_at.is_(None))
                     .order_by(Ticket.claimed_by.is_(None), Ticket.priority != Priority.EMERGENCY,
                               Ticket.deadline_at, Ticket.id)).all()
    minutes = cap.handling_minutes or fallback_minutes
    out: list[TicketForecast] = []
    # The lawyers' next free moments; each ticket goes to whoever is free first.
    lanes = _lanes(cap, now)
    for r in rows:
        expected = None
        if lanes and minutes is not None:
            free = heapq.heappop(lanes)
            expected = free + timedelta(minutes=minutes)
            heapq.heappush(lanes, expected)
        out.append(TicketForecast(r.id, r.ticket_no or "", r.priority, as_utc(r.deadline_at),
                                  expected))
    return cap, out


def _lanes(cap: Capacity, now: datetime) -> list[datetime]:
    if cap.on_duty > 0:
        return [now] * cap.on_duty
    if cap.next_start is not None and cap.next_count > 0:
        return [cap.next_start] * cap.next_count
    return []


# -- the service the console calls ------------------------------------------------------------
@dataclass(frozen=True)
class DutyView:
    user_id: int
    name: str
    toggled: bool
    scheduled: bool
    shifts: tuple[Shift, ...]
    current: Shift | None = None  # the shift that has them on duty now

    @property
    def on_duty(self) -> bool:
        return self.toggled or self.scheduled


def _duty_view(user_id: int, name: str, toggled: bool, own: list[Shift], now: datetime) -> DutyView:
    local = as_utc(now).astimezone(CHINA_TZ)
    current = next((sh for sh in own if sh.covers(local)), None)
    return DutyView(user_id, name, toggled, current is not None, tuple(own), current)


class Roster:
    """Marking oneself on or off duty, and the weekly schedule admins keep."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def set_on_duty(self, user_id: int, on: bool, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self._sessions.begin() as s:
            row = s.get(DutyStatus, user_id)
            if row is None:
                s.add(DutyStatus(user_id=user_id, on_duty=on, changed_at=now))
            else:
                row.on_duty, row.changed_at = on, now

    def add_shift(self, user_id: int, weekday: int, start: str, end: str) -> Shift:
        if not 0 <= weekday < 7:
            raise InvalidShift("请选择星期几")
        first, last = parse_clock(start), parse_clock(end)
        if last == DAY_MINUTES - 1:  # a time field's latest value, 23:59: to midnight
            last = DAY_MINUTES
        if last <= first:
            raise InvalidShift("结束时间须晚于开始时间（跨夜请分成两段）")
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                raise InvalidShift("没有这个在职账号")
            for other in shifts(s, user_id):
                if other.weekday == weekday and first < other.end_minute and other.start_minute < last:
                    raise InvalidShift(f"与已有排班重叠：{other.label}")
            row = DutyShift(user_id=user_id, weekday=weekday, start_minute=first,
                            end_minute=last, created_at=utcnow())
            s.add(row)
            s.flush()
            return _shift(row)

    def remove_shift(self, shift_id: int) -> None:
        with self._sessions.begin() as s:
            if not rows_changed(s.execute(delete(DutyShift).where(DutyShift.id == shift_id))):
                raise ShiftNotFound(shift_id)

    def status(self, user_id: int, now: datetime | None = None) -> DutyView:
        now = now or utcnow()
        with self._sessions() as s:
            own = shifts(s, user_id)
            name = s.scalar(select(User.display_name).where(User.id == user_id)) or ""
            return _duty_view(user_id, name, user_id in toggled_ids(s), own, now)

    def board(self, now: datetime | None = None) -> list[DutyView]:
        """Every active staff member who can work tickets: lawyers, and admins who are on
        duty or scheduled."""
        now = now or utcnow()
        with self._sessions() as s:
            all_shifts = shifts(s)
            toggled = toggled_ids(s)
            users = s.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
            return [_duty_view(u.id, u.display_name, u.id in toggled,
                               [sh for sh in all_shifts if sh.user_id == u.id], now)
                    for u in users
                    if u.role == Role.LAWYER or u.id in toggled
                    or any(sh.user_id == u.id for sh in all_shifts)]

    def in_use(self) -> bool:
        with self._sessions() as s:
            return in_use(s)

    def on_duty_count(self, now: datetime | None = None) -> int:
        with self._sessions() as s:
            return len(on_duty_ids(s, now))


def wait_minutes(cap: Capacity, ahead: int, now: datetime) -> float | None:
    """Minutes until a ticket with ``ahead`` tickets before it gets a first response from
    the lawyers on duty (None when it cannot be said: see ``Capacity.first_response``)."""
    due = cap.first_response(ahead, now)
    if due is None:
        return None
    return max(1.0, math.ceil((due - now).total_seconds() / 60))

