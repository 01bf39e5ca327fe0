"""The lawyer queue: ticket lifecycle, ownership (首问负责制), routing order, deadlines.

Lifecycle (``ALLOWED`` lists every move)::

    waiting ──claim──▶ claimed ──reply──▶ answered ──close──▶ closed
       │                  │                  │  ▲                │
       │               transfer        resident│  │reply          │reopen
       │                  ▼            escalates▼  │               ▼
       └─reassign──▶ transferred ──claim/reply─▶ reopened ◀──── expired
                                                        (answered, then silence)

A lawyer owns a ticket from the claim until it is closed or transferred.  Every move is a
conditional ``UPDATE ... WHERE status IN (...) AND <owner condition>`` whose row count says
whether it happened, so two lawyers (threads, processes) acting at once cannot both win.
Functions here work in the caller's session and never commit.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.queue.models import Ticket, TicketMessage
from knowledge.settings import Settings
from knowledge.timeutil import as_utc, utcnow

WAITING, CLAIMED, ANSWERED, CLOSED = "waiting", "claimed", "answered", "closed"
TRANSFERRED, REOPENED, EXPIRED = "transferred", "reopened", "expired"
EMERGENCY, NORMAL = "emergency", "normal"
#: Times shown to residents and staff, and report dates (China has no daylight saving).
CHINA_TZ = timezone(timedelta(hours=8), "CST")
STATUSES = (WAITING, CLAIMED, ANSWERED, CLOSED, TRANSFERRED, REOPENED, EXPIRED)

#: Shown in the console.
STATUS_LABELS: dict[str, str] = {
    WAITING: "待接单", CLAIMED: "处理中", ANSWERED: "已答复", CLOSED: "已办结",
    TRANSFERRED: "已转交", REOPENED: "重新打开", EXPIRED: "已过期",
}
PRIORITY_LABELS: dict[str, str] = {EMERGENCY: "紧急", NORMAL: "普通"}

#: The resident's case is still with us: follow-up messages attach to the ticket.
OPEN_STATES = (WAITING, CLAIMED, ANSWERED, TRANSFERRED, REOPENED)
#: A lawyer's response is due: these tickets can be overdue.
PENDING_STATES = (WAITING, CLAIMED, TRANSFERRED, REOPENED)
#: States a ticket may move to from each state.
ALLOWED: dict[str, frozenset[str]] = {
    WAITING: frozenset({CLAIMED, TRANSFERRED, CLOSED}),
    CLAIMED: frozenset({ANSWERED, TRANSFERRED, CLOSED}),
    ANSWERED: frozenset({ANSWERED, REOPENED, TRANSFERRED, CLOSED, EXPIRED}),
    TRANSFERRED: frozenset({CLAIMED, ANSWERED, TRANSFERRED, CLOSED}),
    REOPENED: frozenset({CLAIMED, ANSWERED, TRANSFERRED, CLOSED}),
    CLOSED: frozenset({REOPENED}),
    EXPIRED: frozenset({REOPENED}),
}


def sources(target: str) -> tuple[str, ...]:
    """The states from which ``target`` can be reached."""
    return tuple(st for st in STATUSES if target in ALLOWED[st])


# -- errors (the console shows ``str(exc)``: Chinese) -----------------------------------
class QueueError(Exception):
    """A queue action that cannot be done; the message is shown to the lawyer."""


class TicketNotFound(QueueError, LookupError):
    def __init__(self, ticket_id: object) -> None:
        super().__init__(f"咨询单不存在：{ticket_id}")
        self.ticket_id = ticket_id


class AlreadyClaimed(QueueError):
    pass


class NotOwner(QueueError):
    pass


class BadTransition(QueueError):
    pass


class EmptyReply(QueueError):
    pass


class NotAllowed(QueueError):
    pass


class UnknownStaff(QueueError):
    pass


# -- deadlines (限时办结) ------------------------------------------------------------------
DEFAULT_DEADLINE_MINUTES: Mapping[str, int] = {EMERGENCY: 30, NORMAL: 24 * 60}


@dataclass(frozen=True)
class QueuePolicy:
    """Deadlines per priority (a category key overrides "normal"), and expiry."""

    deadline_minutes: Mapping[str, int] = field(default_factory=dict)
    expire_after: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        # A partial setting ('{"normal": 720}') keeps the other defaults.
        object.__setattr__(self, "deadline_minutes",
                           {**DEFAULT_DEADLINE_MINUTES, **self.deadline_minutes})

    @classmethod
    def from_settings(cls, settings: Settings) -> "QueuePolicy":
        return cls(dict(settings.ticket_deadline_minutes),
                   timedelta(days=settings.ticket_expire_days))

    def deadline_for(self, priority: str, category: str | None) -> timedelta:
        # Emergencies are emergencies whatever the subject; a category may tighten or
        # loosen the normal deadline (inheritance takes longer to read than unpaid wages).
        if priority == EMERGENCY:
            return timedelta(minutes=self.deadline_minutes[EMERGENCY])
        minutes = self.deadline_minutes.get(category or "", self.deadline_minutes[NORMAL])
        return timedelta(minutes=minutes)


# -- views --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketRow:
    """A ticket as the queue lists it."""

    id: int
    ticket_no: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    category: str | None
    region: str | None
    question: str
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    overdue: bool
    claimed_by: int | None
    claimed_by_name: str | None
    claimed_at: datetime | None
    first_response_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    matches: bool  # in the viewing lawyer's categories or regions


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str  # in / out / lawyer
    author_id: int | None
    author_name: str | None
    content: str
    created_at: datetime
    delivery: str | None  # lawyer replies: pending / sent / held / failed


@dataclass(frozen=True)
class CandidateView:
    id: int
    external_id: str | None
    kind: str
    title: str
    score: float
    text: str  # the entry's answer text (empty when the entry is gone)


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor_id: int | None
    actor_name: str | None  # None: the system
    action: str
    action_label: str
    detail: dict


@dataclass(frozen=True)
class TicketPage:
    row: TicketRow
    resident: str  # a masked OpenID: enough to tell residents apart, not to contact them
    messages: tuple[MessageView, ...]
    candidates: tuple[CandidateView, ...]
    rating: int | None
    rated_at: datetime | None
    kb_entry_id: int | None
    audit: tuple[AuditLine, ...]
    actions: tuple[str, ...]  # what the viewing staff member may do now


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    deadline = as_utc(ticket.deadline_at)
    return (ticket.status in PENDING_STATES and deadline is not None
            and deadline < (now or utcnow()))


def overdue_clause(now: datetime):  # noqa: ANN201 - a SQL expression
    return and_(Ticket.status.in_(PENDING_STATES), Ticket.deadline_at.is_not(None),
                Ticket.deadline_at < now)


def to_row(t: Ticket, names: Mapping[int, str], now: datetime,
           categories: Iterable[str] = (), regions: Iterable[str] = ()) -> TicketRow:
    return TicketRow(
        id=t.id, ticket_no=t.ticket_no or "", status=t.status,
        status_label=STATUS_LABELS.get(t.status, t.status), priority=t.priority,
        priority_label=PRIORITY_LABELS.get(t.priority, t.priority), category=t.category,
        region=t.region, question=t.question, created_at=as_utc(t.created_at),
        updated_at=as_utc(t.updated_at), deadline_at=as_utc(t.deadline_at),
        overdue=is_overdue(t, now), claimed_by=t.claimed_by,
        claimed_by_name=names.get(t.claimed_by) if t.claimed_by is not None else None,
        claimed_at=as_utc(t.claimed_at), first_response_at=as_utc(t.first_response_at),
        answered_at=as_utc(t.answered_at), closed_at=as_utc(t.closed_at), rating=t.rating,
        matches=matches(t, categories, regions))


def matches(t: Ticket, categories: Iterable[str], regions: Iterable[str]) -> bool:
    """In the lawyer's categories, or in one of their regions: a lawyer's "海淀区" matches
    a resident's shared location "北京市海淀区中关村大街"."""
    if t.category is not None and t.category in set(categories):
        return True
    return t.region is not None and any(r and r in t.region for r in regions)


def routing_order(tickets: Iterable[Ticket], categories: Iterable[str] = (),
                  regions: Iterable[str] = ()) -> list[Ticket]:
    """The lawyer's own subjects first, then emergencies, then the earliest deadline."""
    cats, regs = set(categories), set(regions)
    far = datetime.max.replace(tzinfo=None)

    def key(t: Ticket) -> tuple:
        deadline = as_utc(t.deadline_at)
        return (not matches(t, cats, regs), t.priority != EMERGENCY,
                deadline.replace(tzinfo=None) if deadline else far, t.id)

    return sorted(tickets, key=key)


def allowed_actions(t: Ticket, staff_id: int, admin: bool) -> tuple[str, ...]:
    owner = t.claimed_by == staff_id
    acts = []
    if t.status in sources(CLAIMED) and t.claimed_by in (None, staff_id):
        acts.append("claim")
    if owner and t.status in sources(ANSWERED):
        acts.append("reply")
    if (owner or admin) and t.status in sources(TRANSFERRED):
        acts.append("transfer")
    if (owner or admin) and t.status in sources(CLOSED):
        acts.append("close")
    if (owner or admin) and t.status in sources(REOPENED):
        acts.append("reopen")
    if admin and t.status in OPEN_STATES:
        acts.append("reassign")
    if (owner or admin) and t.status in (ANSWERED, CLOSED, EXPIRED):
        acts.append("draft_entry")
    return tuple(acts)


# -- moves ----------------------------------------------------------------------------------
def get(s: Session, ticket_id: int) -> Ticket:
    ticket = s.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def _move(s: Session, ticket_id: int, target: str, where: list, values: dict) -> bool:
    """One conditional UPDATE towards ``target``: True when this call made the move."""
    result = s.execute(update(Ticket).where(Ticket.id == ticket_id,
                                            Ticket.status.in_(sources(target)), *where)
                       .values(status=target, **values)
                       .execution_options(synchronize_session=False))
    return result.rowcount == 1


ACTION_VERBS = {CLAIMED: "接单", ANSWERED: "答复", TRANSFERRED: "转交", CLOSED: "办结",
                REOPENED: "重新打开", EXPIRED: "标记过期"}


def _refuse(s: Session, ticket_id: int, target: str, actor_id: int | None) -> QueueError:
    """Why a move did not happen (read after the failed UPDATE)."""
    t = get(s, ticket_id)
    if target == CLAIMED and t.status in OPEN_STATES and t.claimed_by is not None:
        return AlreadyClaimed("该咨询单已被其他律师接单" if t.claimed_by != actor_id
                              else "您已接下该咨询单")
    if t.status not in sources(target):
        return BadTransition(f"咨询单当前状态为“{STATUS_LABELS.get(t.status, t.status)}”，"
                             f"不能{ACTION_VERBS.get(target, target)}")
    return NotOwner("只有接单律师（或管理员）可以办理该咨询单")


def claim(s: Session, ticket_id: int, staff_id: int, now: datetime | None = None) -> Ticket:
    """Take an unowned ticket (or one transferred to ``staff_id``); exactly one claimant wins."""
    now = now or utcnow()
    if not _move(s, ticket_id, CLAIMED,
                 [or_(Ticket.claimed_by.is_(None), Ticket.claimed_by == staff_id)],
                 dict(claimed_by=staff_id, claimed_at=now, updated_at=now)):
        raise _refuse(s, ticket_id, CLAIMED, staff_id)
    return get(s, ticket_id)


def record_reply(s: Session, ticket_id: int, staff_id: int, text: str,
                 now: datetime | None = None) -> TicketMessage:
    """The owner answers: the reply joins the conversation and the ticket is answered."""
    text = (text or "").strip()
    if not text:
        raise EmptyReply("答复内容不能为空")
    now = now or utcnow()
    if not _move(s, ticket_id, ANSWERED,
                 [Ticket.claimed_by == staff_id],
                 dict(answered_at=now, updated_at=now,
                      first_response_at=func.coalesce(Ticket.first_response_at, now))):
        t = get(s, ticket_id)
        if t.status == WAITING or t.claimed_by != staff_id:
            raise NotOwner("请先接单再答复" if t.claimed_by is None
                           else "只有接单律师可以答复该咨询单")
        raise _refuse(s, ticket_id, ANSWERED, staff_id)
    message = TicketMessage(ticket_id=ticket_id, direction="lawyer", author_id=staff_id,
                            content=text, created_at=now)
    s.add(message)
    s.flush()
    return message


def _owner_clause(actor_id: int, admin: bool) -> list:
    return [] if admin else [Ticket.claimed_by == actor_id]


def transfer(s: Session, ticket_id: int, actor_id: int, to_user_id: int | None,
             admin: bool = False, now: datetime | None = None) -> Ticket:
    """Hand the ticket to another lawyer (who then owns it) or back to the pool (None)."""
    now = now or utcnow()
    if to_user_id is not None and to_user_id == actor_id and not admin:
        raise BadTransition("不能转交给自己")
    if not _move(s, ticket_id, TRANSFERRED, _owner_clause(actor_id, admin),
                 dict(claimed_by=to_user_id, claimed_at=None, updated_at=now)):
        raise _refuse(s, ticket_id, TRANSFERRED, actor_id)
    return get(s, ticket_id)


def close(s: Session, ticket_id: int, actor_id: int, admin: bool = False,
          now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    if not _move(s, ticket_id, CLOSED, _owner_clause(actor_id, admin),
                 dict(closed_at=now, updated_at=now)):
        raise _refuse(s, ticket_id, CLOSED, actor_id)
    return get(s, ticket_id)


def reopen(s: Session, ticket_id: int, policy: QueuePolicy, actor_id: int | None,
           admin: bool = False, now: datetime | None = None) -> Ticket:
    """Back to work with a fresh deadline; the owner stays the owner.  ``actor_id`` None:
    the resident asked again (only the system does that, for an answered ticket)."""
    now = now or utcnow()
    t = get(s, ticket_id)
    deadline = now + policy.deadline_for(t.priority, t.category)
    where = [] if actor_id is None else _owner_clause(actor_id, admin)
    if not _move(s, ticket_id, REOPENED, where,
                 dict(closed_at=None, deadline_at=deadline, overdue_alerted_at=None,
                      updated_at=now)):
        raise _refuse(s, ticket_id, REOPENED, actor_id)
    return get(s, ticket_id)


def rate(s: Session, ticket_id: int, score: int, now: datetime | None = None) -> Ticket:
    """The resident's rating of the lawyer's answer (the latest rating counts)."""
    if not 1 <= score <= 5:
        raise ValueError("rating must be 1..5")
    t = get(s, ticket_id)
    t.rating, t.rated_at = score, now or utcnow()
    t.updated_at = t.rated_at  # the resident came back: expiry counts from here
    return t


def expire_stale(s: Session, policy: QueuePolicy, now: datetime | None = None) -> list[int]:
    """Answered tickets the resident has not come back to within the expiry: expired."""
    now = now or utcnow()
    cutoff = now - policy.expire_after
    ids = list(s.scalars(select(Ticket.id).where(Ticket.status == ANSWERED,
                                                 Ticket.updated_at < cutoff)))
    return [i for i in ids
            if _move(s, i, EXPIRED, [Ticket.updated_at < cutoff],
                     dict(closed_at=now, updated_at=now))]


def mark_overdue_alerted(s: Session, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Overdue tickets not alerted yet, marked now; each id is returned to one caller only."""
    now = now or utcnow()
    ids = list(s.scalars(select(Ticket.id).where(overdue_clause(now),
                                                 Ticket.overdue_alerted_at.is_(None))
                         .order_by(Ticket.deadline_at, Ticket.id).limit(limit)))  # lock order
    won = []
    for i in ids:
        result = s.execute(update(Ticket).where(Ticket.id == i,
                                                Ticket.overdue_alerted_at.is_(None))
                           .values(overdue_alerted_at=now)
                           .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            won.append(i)
    return won


# -- the resident's expected wait ------------------------------------------------------
HISTORY_WINDOW = timedelta(days=14)
MIN_SAMPLES = 5  # fewer first responses than this say too little: promise the deadline
THROUGHPUT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WaitEstimate:
    minutes: int  # expected minutes to a lawyer's first response
    ahead: int  # tickets waiting before this one
    deadline_minutes: int  # the service's commitment (限时办结)
    basis: str  # "history" (measured) or "deadline" (no history yet)


def expected_wait(s: Session, policy: QueuePolicy, priority: str, category: str | None,
                  now: datetime | None = None, before_id: int | None = None) -> WaitEstimate:
    """An honest estimate from the queue as it is: the recent median first-response time,
    or longer when the backlog ahead takes longer at the recent answering rate."""
    now = now or utcnow()
    deadline = int(policy.deadline_for(priority, category).total_seconds() // 60)
    ahead_q = select(func.count(Ticket.id)).where(Ticket.status.in_(PENDING_STATES),
                                                  Ticket.first_response_at.is_(None))
    if priority == EMERGENCY:  # emergencies only queue behind emergencies
        ahead_q = ahead_q.where(Ticket.priority == EMERGENCY)
    if before_id is not None:
        ahead_q = ahead_q.where(Ticket.id < before_id)
    ahead = s.scalar(ahead_q) or 0
    rows = s.execute(select(Ticket.created_at, Ticket.first_response_at)
                     .where(Ticket.priority == priority,
                            Ticket.first_response_at >= now - HISTORY_WINDOW)
                     .order_by(Ticket.first_response_at.desc()).limit(200)).all()
    samples = [(as_utc(r.first_response_at) - as_utc(r.created_at)).total_seconds() / 60
               for r in rows]
    if len(samples) < MIN_SAMPLES:
        return WaitEstimate(deadline, ahead, deadline, "deadline")
    median = statistics.median(samples)
    answered_recently = s.scalar(select(func.count(Ticket.id)).where(
        Ticket.first_response_at >= now - THROUGHPUT_WINDOW)) or 0
    per_minute = answered_recently / (THROUGHPUT_WINDOW.total_seconds() / 60)
    backlog = ahead / per_minute if per_minute > 0 else 0.0
    return WaitEstimate(max(1, math.ceil(max(median, backlog))), ahead, deadline, "history")
