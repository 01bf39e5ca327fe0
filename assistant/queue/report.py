"""Service figures of the lawyer queue, overall and per lawyer, for a period.

A ticket counts in the period it was created in, and for the lawyer who owns it
(``claimed_by``; after a transfer, the new owner).  Figures:

* response rate: the share of tickets that got a lawyer's first response (so far);
* median / p90 time from creation to the first response (nearest-rank p90);
* median time from creation to closing (closed tickets; expired ones are counted apart);
* overdue: tickets whose first response came after the deadline (or has not come and the
  deadline has passed), or that raised an overdue alert (e.g. after being reopened);
* satisfaction: the mean of the residents' 1-5 ratings, and how many rated.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from assistant.durations import duration_text
from assistant.queue.models import Ticket, TicketStatus
from assistant.queue.staff import Role, User
from knowledge.timeutil import CHINA_TZ, as_utc, utcnow


@dataclass(frozen=True)
class Stats:
    tickets: int
    responded: int
    response_rate: float | None  # None: no tickets
    median_first_response_s: float | None
    p90_first_response_s: float | None
    closed: int
    expired: int
    median_close_s: float | None
    overdue: int
    rating_mean: float | None
    rating_count: int
    rating_satisfied: int = 0  # ratings of 4 or 5


#: A 1-5 rating at or above this is "satisfied" (a resident's 5), at or below DISSATISFIED_AT not.
SATISFIED_AT = 4
DISSATISFIED_AT = 2


@dataclass(frozen=True)
class LawyerStats:
    lawyer_id: int | None  # None: tickets nobody owns
    name: str
    stats: Stats


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime  # exclusive
    overall: Stats
    lawyers: tuple[LawyerStats, ...]

    def to_dict(self) -> dict[str, object]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "overall": asdict(self.overall),
                "lawyers": [{"lawyer_id": ls.lawyer_id, "name": ls.name, **asdict(ls.stats)}
                            for ls in self.lawyers]}


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: a value that really occurred."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def compute(tickets: list[Ticket], now: datetime | None = None) -> Stats:
    now = now or utcnow()
    first, close, ratings = [], [], []
    overdue = closed = expired = 0
    for t in tickets:
        created = as_utc(t.created_at)
        responded = as_utc(t.first_response_at)
        deadline = as_utc(t.deadline_at)
        if responded is not None:
            first.append((responded - created).total_seconds())
        if t.status == TicketStatus.CLOSED and t.closed_at is not None:
            closed += 1
            close.append((as_utc(t.closed_at) - created).total_seconds())
        expired += t.status == TicketStatus.EXPIRED
        late = deadline is not None and (responded or now) > deadline
        overdue += bool(late or t.overdue_alerted_at is not None)
        if t.rating is not None:
            ratings.append(t.rating)
    n = len(tickets)
    return Stats(
        tickets=n, responded=len(first), response_rate=len(first) / n if n else None,
        median_first_response_s=_median(first), p90_first_response_s=p90(first),
        closed=closed, expired=expired, median_close_s=_median(close), overdue=overdue,
        rating_mean=statistics.fmean(ratings) if ratings else None, rating_count=len(ratings),
        rating_satisfied=sum(r >= SATISFIED_AT for r in ratings))


def in_region(region: str) -> ColumnElement[bool]:
    """Tickets whose region (the location the resident shared) names ``region``, as the
    queue's region filter reads it ("海淀区" matches "北京市海淀区中关村")."""
    return Ticket.region.contains(region, autoescape=True)


def tickets_in(s: Session, start: datetime, end: datetime, lawyer_id: int | None = None,
               category: str | None = None, region: str | None = None) -> list[Ticket]:
    # Times are stored in UTC, and SQLite compares them as written: compare in UTC too.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    stmt = select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
    if lawyer_id is not None:
        stmt = stmt.where(Ticket.claimed_by == lawyer_id)
    if category:
        stmt = stmt.where(Ticket.category == category)
    if region:
        stmt = stmt.where(in_region(region))
    return list(s.scalars(stmt.order_by(Ticket.id)))


def stats(s: Session, start: datetime, end: datetime, lawyer_id: int | None = None,
          now: datetime | None = None) -> Stats:
    """Figures for one lawyer (``lawyer_id``) or, with None, for everyone."""
    return compute(tickets_in(s, start, end, lawyer_id), now)


def lawyer_names(s: Session) -> dict[int, str]:
    """Every lawyer, and anyone else who ever owned a ticket (an admin who claimed one)."""
    names = {i: n for i, n in s.execute(
        select(User.id, User.display_name).where(User.role == Role.LAWYER))}
    names.update({i: n for i, n in s.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(Ticket.claimed_by).distinct())))})
    return names


def report(s: Session, start: datetime, end: datetime, names: Mapping[int, str],
           now: datetime | None = None, category: str | None = None,
           region: str | None = None) -> Report:
    """Overall and per lawyer: every lawyer in ``names`` (even without tickets), every other
    owner found in the period, and the tickets nobody owns; optionally only the tickets of
    one category or region."""
    tickets = tickets_in(s, start, end, category=category, region=region)
    by_owner: dict[int | None, list[Ticket]] = {i: [] for i in names}
    for t in tickets:
        by_owner.setdefault(t.claimed_by, []).append(t)
    lawyers = [LawyerStats(i, names.get(i, f"#{i}"), compute(by_owner[i], now))
               for i in sorted((k for k in by_owner if k is not None),
                               key=lambda k: (names.get(k, "~"), k))]
    if by_owner.get(None):
        lawyers.append(LawyerStats(None, "（未接单）", compute(by_owner[None], now)))
    return Report(start, end, compute(tickets, now), tuple(lawyers))


# -- text ----------------------------------------------------------------------------------
def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _rating(st: Stats) -> str:
    return "—（0 人评价）" if st.rating_mean is None else \
        f"{st.rating_mean:.2f} 分（{st.rating_count} 人评价）"


def stats_lines(st: Stats) -> list[str]:
    return [
        f"咨询单：{st.tickets}    已首次答复：{st.responded}    答复率：{_percent(st.response_rate)}",
        f"首次答复用时：中位数 {duration_text(st.median_first_response_s)}，"
        f"P90 {duration_text(st.p90_first_response_s)}",
        f"办结：{st.closed}（办结用时中位数 {duration_text(st.median_close_s)}）    "
        f"自动结束：{st.expired}    超时：{st.overdue}",
        f"满意度：{_rating(st)}",
    ]


def format_report(rep: Report) -> str:
    start = rep.start.astimezone(CHINA_TZ)
    last = (rep.end - timedelta(microseconds=1)).astimezone(CHINA_TZ)  # end is exclusive
    lines = [f"律师咨询服务报告（{start:%Y-%m-%d} 至 {last:%Y-%m-%d}，北京时间）", "",
             "【总体】", *("  " + line for line in stats_lines(rep.overall))]
    for ls in rep.lawyers:
        lines += ["", f"【{ls.name}】", *("  " + line for line in stats_lines(ls.stats))]
    return "\n".join(lines)
