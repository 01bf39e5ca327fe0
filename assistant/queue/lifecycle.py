"""The lawyer queue: ticket lifecycle, ownership (首问负责制), routing order, deadlines.

Lifecycle (the states are ``TicketStatus``; ``ALLOWED`` lists every move)::

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

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.queue.errors import AlreadyClaimed, BadTransition, EmptyReply, NotOwner, QueueError, TicketNotFound
from assistant.queue.models import Direction, Priority, Ticket, TicketMessage, TicketStatus
from assistant.queue.settings import QueuePolicy
from knowledge.db import rows_changed
from knowledge.timeutil import as_utc, utcnow

S = TicketStatus
#: States a ticket may move to from each state: the one table of allowed moves.
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.WAITING: frozenset({S.CLAIMED, S.TRANSFERRED, S.CLOSED}),
    S.CLAIMED: frozenset({S.ANSWERED, S.TRANSFERRED, S.CLOSED}),
    S.ANSWERED: frozenset({S.ANSWERED, S.REOPENED, S.TRANSFERRED, S.CLOSED, S.EXPIRED}),
    S.TRANSFERRED: frozenset({S.CLAIMED, S.ANSWERED, S.TRANSFERRED, S.CLOSED}),
    S.REOPENED: frozenset({S.CLAIMED, S.ANSWERED, S.TRANSFERRED, S.CLOSED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.EXPIRED: frozenset({S.REOPENED}),
}
#: The resident's case is still with us: follow-up messages attach to the ticket.
OPEN_STATES = (S.WAITING, S.CLAIMED, S.ANSWERED, S.TRANSFERRED, S.REOPENED)
#: A lawyer's response is due: these tickets can be overdue.
PENDING_STATES = (S.WAITING, S.CLAIMED, S.TRANSFERRED, S.REOPENED)

#: Shown in the console.
STATUS_LABELS: dict[str, str] = {
    S.WAITING: "待接单", S.CLAIMED: "处理中", S.ANSWERED: "已答复", S.CLOSED: "已办结",
    S.TRANSFERRED: "已转交", S.REOPENED: "重新打开", S.EXPIRED: "已过期",
}
PRIORITY_LABELS: dict[str, str] = {Priority.EMERGENCY: "紧急", Priority.NORMAL: "普通"}


def sources(target: TicketStatus) -> tuple[TicketStatus, ...]:
    """The states from which ``target`` can be reached."""
    return tuple(st for st in TicketStatus if target in ALLOWED[st])


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    deadline = as_utc(ticket.deadline_at)
    return (ticket.status in PENDING_STATES and deadline is not None
            and deadline < (now or utcnow()))


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Ticket.status.in_(PENDING_STATES), Ticket.deadline_at.is_not(None),
                Ticket.deadline_at < now)


def get(s: Session, ticket_id: int) -> Ticket:
    ticket = s.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def _move(s: Session, ticket_id: int, target: TicketStatus, where: list[Any],
          values: dict[str, Any]) -> bool:
    """One conditional UPDATE towards ``target``: True when this call made the move."""
    result = s.execute(update(Ticket).where(Ticket.id == ticket_id,
                                            Ticket.status.in_(sources(target)), *where)
                       .values(status=target, **values)
                       .execution_options(synchronize_session=False))
    return rows_changed(result) == 1


ACTION_VERBS = {S.CLAIMED: "接单", S.ANSWERED: "答复", S.TRANSFERRED: "转交", S.CLOSED: "办结",
                S.REOPENED: "重新打开", S.EXPIRED: "标记过期"}


def _refuse(s: Session, ticket_id: int, target: TicketStatus,
            actor_id: int | None) -> QueueError:
    """Why a move did not happen (read after the failed UPDATE)."""
    t = get(s, ticket_id)
    if target == S.CLAIMED and t.status in OPEN_STATES and t.claimed_by is not None:
        return AlreadyClaimed("该咨询单已被其他律师接单" if t.claimed_by != actor_id
                              else "您已接下该咨询单")
    if t.status not in sources(target):
        return BadTransition(f"咨询单当前状态为“{STATUS_LABELS.get(t.status, t.status)}”，"
                             f"不能{ACTION_VERBS.get(target, target)}")
    return NotOwner("只有接单律师（或管理员）可以办理该咨询单")


def claim(s: Session, ticket_id: int, staff_id: int, now: datetime | None = None) -> Ticket:
    """Take an unowned ticket (or one transferred to ``staff_id``); exactly one claimant wins."""
    now = now or utcnow()
    if not _move(s, ticket_id, S.CLAIMED,
                 [or_(Ticket.claimed_by.is_(None), Ticket.claimed_by == staff_id)],
                 dict(claimed_by=staff_id, claimed_at=now, updated_at=now)):
        raise _refuse(s, ticket_id, S.CLAIMED, staff_id)
    return get(s, ticket_id)


def record_reply(s: Session, ticket_id: int, staff_id: int, text: str,
                 now: datetime | None = None) -> TicketMessage:
    """The owner answers: the reply joins the conversation and the ticket is answered."""
    text = (text or "").strip()
    if not text:
        raise EmptyReply("答复内容不能为空")
    now = now or utcnow()
    if not _move(s, ticket_id, S.ANSWERED,
                 [Ticket.claimed_by == staff_id],
                 dict(answered_at=now, updated_at=now,
                      first_response_at=func.coalesce(Ticket.first_response_at, now))):
        t = get(s, ticket_id)
        if t.status == S.WAITING or t.claimed_by != staff_id:
            raise NotOwner("请先接单再答复" if t.claimed_by is None
                           else "只有接单律师可以答复该咨询单")
        raise _refuse(s, ticket_id, S.ANSWERED, staff_id)
    message = TicketMessage(ticket_id=ticket_id, direction=Direction.LAWYER, author_id=staff_id,
                            content=text, created_at=now)
    s.add(message)
    s.flush()
    return message


def _owner_clause(actor_id: int, admin: bool) -> list[Any]:
    return [] if admin else [Ticket.claimed_by == actor_id]


def transfer(s: Session, ticket_id: int, actor_id: int, to_user_id: int | None,
             admin: bool = False, now: datetime | None = None) -> Ticket:
    """Hand the ticket to another lawyer (who then owns it) or back to the pool (None)."""
    now = now or utcnow()
    if to_user_id is not None and to_user_id == actor_id and not admin:
        raise BadTransition("不能转交给自己")
    if not _move(s, ticket_id, S.TRANSFERRED, _owner_clause(actor_id, admin),
                 dict(claimed_by=to_user_id, claimed_at=None, updated_at=now)):
        raise _refuse(s, ticket_id, S.TRANSFERRED, actor_id)
    return get(s, ticket_id)


def close(s: Session, ticket_id: int, actor_id: int, admin: bool = False,
          now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    if not _move(s, ticket_id, S.CLOSED, _owner_clause(actor_id, admin),
                 dict(closed_at=now, updated_at=now)):
        raise _refuse(s, ticket_id, S.CLOSED, actor_id)
    return get(s, ticket_id)


def reopen(s: Session, ticket_id: int, policy: QueuePolicy, actor_id: int | None,
           admin: bool = False, now: datetime | None = None) -> Ticket:
    """Back to work with a fresh deadline; the owner stays the owner.  ``actor_id`` None:
    the resident asked again (only the system does that, for an answered ticket)."""
    now = now or utcnow()
    t = get(s, ticket_id)
    deadline = now + policy.deadline_for(t.priority, t.category)
    where = [] if actor_id is None else _owner_clause(actor_id, admin)
    if not _move(s, ticket_id, S.REOPENED, where,
                 dict(closed_at=None, deadline_at=deadline, overdue_alerted_at=None,
                      updated_at=now)):
        raise _refuse(s, ticket_id, S.REOPENED, actor_id)
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
    ids = list(s.scalars(select(Ticket.id).where(Ticket.status == S.ANSWERED,
                                                 Ticket.updated_at < cutoff)))
    return [i for i in ids
            if _move(s, i, S.EXPIRED, [Ticket.updated_at < cutoff],
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
        if rows_changed(result) == 1:
            won.append(i)
    return won


