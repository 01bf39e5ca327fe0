"""Escalation tickets, the resident's side: open one, attach the conversation, list them.

A resident has at most one open ticket (``queue.OPEN_STATES``): further messages while it is
open are attached to it (an emergency raises its priority and tightens its deadline) instead
of opening another.  The lawyer's side of the lifecycle is ``assistant.queue``.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.outcome import Decision, Outcome
from assistant.queue import roster
from assistant.queue.lifecycle import OPEN_STATES, PENDING_STATES, Priority, TicketStatus
from assistant.queue.models import Direction, Ticket, TicketMessage
from assistant.queue.settings import QueuePolicy
from knowledge.timeutil import as_utc, utcnow

# How much earlier conversation travels with a new ticket.
TRANSCRIPT_WINDOW = timedelta(hours=24)

#: One line of a resident's recent conversation: (time, "in"/"out", inbound id, text).
TranscriptLine = tuple[datetime, str, int | None, str]
#: Reads a resident's recent conversation since a time, oldest first.  The channel owns the
#: message log, so it supplies this reader.
TranscriptReader = Callable[[Session, str, datetime], list[TranscriptLine]]


@dataclass(frozen=True)
class TicketView:
    id: int
    ticket_no: str
    openid: str
    status: str
    priority: str
    created_at: datetime
    question: str
    category: str | None = None
    deadline_at: datetime | None = None
    claimed_by: int | None = None
    rating: int | None = None


def ticket_number(ticket_id: int, created_at: datetime) -> str:
    """Shown to the resident: short, readable over the phone, unique (carries the id)."""
    return f"FZ{created_at:%Y%m%d}{ticket_id:05d}"


def open_ticket(s: Session, openid: str) -> Ticket | None:
    return s.scalar(select(Ticket).where(Ticket.openid == openid,
                                         Ticket.status.in_(OPEN_STATES))
                    .order_by(Ticket.id.desc()).limit(1))


def _candidates(outcome: Outcome | None) -> list[dict[str, object]]:
    if outcome is None:
        return []
    return [{"id": c.id, "external_id": c.external_id, "kind": c.kind, "title": c.title,
             "category": c.category, "score": c.score, "lexical": c.lexical, "dense": c.dense}
            for c in outcome.candidates]


def category_of(outcome: Outcome | None) -> str | None:
    """The subject, when the knowledge base recognised one: the category most of the top
    three candidates share.  An escalated question matched nothing well, so a lone top
    candidate says little ("他拿着刀" finds a loan FAQ); agreement says more. A question in an
    area of law the knowledge base does not cover (刑事, 公司企业, ...) goes to that area."""
    if outcome is not None and outcome.area:
        return outcome.area
    if outcome is None or not outcome.candidates:
        return None
    top = [c.category for c in outcome.candidates[:3] if c.category]
    if not top:
        return None
    category, votes = Counter(top).most_common(1)[0]
    return category if votes * 2 > len(top) else None


LOCATION_PREFIX = "[位置]"  # how the channel logs a location message


def region_of(lines: list[TranscriptLine]) -> str | None:
    """Where the resident is, if they shared a location recently (the latest one)."""
    for _, direction, _, content in reversed(lines):
        if direction == Direction.IN and content.startswith(LOCATION_PREFIX):
            label = content[len(LOCATION_PREFIX):].strip()
            return label[:64] or None
    return None


def create_ticket(s: Session, openid: str, question: str, outcome: Outcome | None,
                  inbound_id: int | None, transcript: TranscriptReader | None = None,
                  reason: str = "", policy: QueuePolicy | None = None) -> Ticket:
    now = utcnow()
    emergency = outcome is not None and outcome.decision is Decision.EMERGENCY
    priority = Priority.EMERGENCY if emergency else Priority.NORMAL
    category = category_of(outcome)
    deadline = now + (policy or QueuePolicy()).deadline_for(priority, category)
    ticket = Ticket(openid=openid, status=TicketStatus.WAITING, priority=priority,
                    reason=reason or (outcome.reason if outcome else ""), question=question,
                    candidates=_candidates(outcome),
                    confidence=outcome.confidence if outcome else None,
                    category=category, deadline_at=deadline,
                    created_at=now, updated_at=now)
    s.add(ticket)
    s.flush()  # the id makes the ticket number
    ticket.ticket_no = ticket_number(ticket.id, now)
    earlier = transcript(s, openid, now - TRANSCRIPT_WINDOW) if transcript else []
    ticket.region = region_of(earlier)
    for at, direction, in_id, content in earlier:
        if in_id == inbound_id and direction == Direction.IN:
            continue  # the triggering message is attached below, once
        s.add(TicketMessage(ticket_id=ticket.id, inbound_id=in_id, direction=direction,
                            content=content, created_at=at))
    s.add(TicketMessage(ticket_id=ticket.id, inbound_id=inbound_id, direction=Direction.IN,
                        content=question, created_at=now))
    return ticket


def attach(s: Session, ticket: Ticket, direction: str, content: str,
           inbound_id: int | None = None, emergency: bool = False,
           policy: QueuePolicy | None = None) -> None:
    now = utcnow()
    s.add(TicketMessage(ticket_id=ticket.id, inbound_id=inbound_id, direction=direction,
                        content=content, created_at=now))
    ticket.updated_at = now
    if emergency and ticket.priority != Priority.EMERGENCY:
        ticket.priority = Priority.EMERGENCY
        # An emergency is due within the emergency deadline from now, if that is sooner.
        due = now + (policy or QueuePolicy()).deadline_for(Priority.EMERGENCY, ticket.category)
        current = as_utc(ticket.deadline_at)
        if current is None or due < current:
            ticket.deadline_at = due


def tickets_of(s: Session, openid: str, limit: int = 5) -> list[TicketView]:
    rows = s.scalars(select(Ticket).where(Ticket.openid == openid)
                     .order_by(Ticket.id.desc()).limit(limit))
    return [TicketView(t.id, t.ticket_no or "", t.openid, t.status, t.priority, t.created_at,
                       t.question, t.category, as_utc(t.deadline_at), t.claimed_by, t.rating)
            for t in rows]


def messages_of(s: Session, ticket_id: int) -> list[TicketMessage]:
    return list(s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
                          .order_by(TicketMessage.created_at, TicketMessage.id)))


# -- the resident's expected wait ---------------------------------------------------------
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
    or longer when the backlog ahead takes longer: with the lawyers on duty and their
    measured handling time once the office uses the roster (``roster.capacity``), else at
    the recent answering rate."""
    now = now or utcnow()
    deadline = int(policy.deadline_for(priority, category).total_seconds() // 60)
    ahead_q = select(func.count(Ticket.id)).where(Ticket.status.in_(PENDING_STATES),
                                                  Ticket.first_response_at.is_(None))
    if priority == Priority.EMERGENCY:  # emergencies only queue behind emergencies
        ahead_q = ahead_q.where(Ticket.priority == Priority.EMERGENCY)
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
    cap = roster.capacity(s, now)
    if cap.roster:  # the lawyers actually on duty, each handling one ticket at a time
        staffed = roster.wait_minutes(cap, ahead, now)
        if staffed is not None:
            return WaitEstimate(max(1, math.ceil(max(median, staffed))), ahead, deadline, "history")
        if cap.on_duty == 0 and cap.next_start is None:  # nobody on duty or scheduled
            return WaitEstimate(deadline, ahead, deadline, "deadline")
    answered_recently = s.scalar(select(func.count(Ticket.id)).where(
        Ticket.first_response_at >= now - THROUGHPUT_WINDOW)) or 0
    per_minute = answered_recently / (THROUGHPUT_WINDOW.total_seconds() / 60)
    backlog = ahead / per_minute if per_minute > 0 else 0.0
    return WaitEstimate(max(1, math.ceil(max(median, backlog))), ahead, deadline, "history")
