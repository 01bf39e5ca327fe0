"""Escalation tickets: open rows a lawyer queue works from, with the conversation attached.

A resident has at most one open ticket: further messages while it is open are attached to
it (an emergency raises its priority) instead of opening another.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.conversation_models import Ticket, TicketMessage, utcnow
from assistant.outcome import Decision, Outcome

OPEN = "open"
CLOSED = "closed"
EMERGENCY = "emergency"
NORMAL = "normal"
# How much earlier conversation travels with a new ticket.
TRANSCRIPT_WINDOW = timedelta(hours=24)

#: One line of a resident's recent conversation: (time, "in"/"out", inbound id, text).
TranscriptLine = tuple[datetime, str, "int | None", str]
#: Reads a resident's recent conversation since a time, oldest first.  The channel owns the
#: message log, so it supplies this reader.
TranscriptReader = Callable[[Session, str, datetime], list[TranscriptLine]]


class TicketNotFound(LookupError):
    pass


@dataclass(frozen=True)
class TicketView:
    id: int
    ticket_no: str
    openid: str
    status: str
    priority: str
    created_at: datetime
    question: str


def ticket_number(ticket_id: int, created_at: datetime) -> str:
    """Shown to the resident: short, readable over the phone, unique (carries the id)."""
    return f"FZ{created_at:%Y%m%d}{ticket_id:05d}"


def open_ticket(s: Session, openid: str) -> Ticket | None:
    return s.scalar(select(Ticket).where(Ticket.openid == openid, Ticket.status == OPEN)
                    .order_by(Ticket.id.desc()).limit(1))


def _candidates(outcome: Outcome | None) -> list[dict]:
    if outcome is None:
        return []
    return [{"id": c.id, "external_id": c.external_id, "kind": c.kind, "title": c.title,
             "category": c.category, "score": c.score, "lexical": c.lexical, "dense": c.dense}
            for c in outcome.candidates]


def create_ticket(s: Session, openid: str, question: str, outcome: Outcome | None,
                  inbound_id: int | None, transcript: TranscriptReader | None = None,
                  reason: str = "") -> Ticket:
    now = utcnow()
    emergency = outcome is not None and outcome.decision is Decision.EMERGENCY
    ticket = Ticket(openid=openid, status=OPEN, priority=EMERGENCY if emergency else NORMAL,
                    reason=reason or (outcome.reason if outcome else ""), question=question,
                    candidates=_candidates(outcome),
                    confidence=outcome.confidence if outcome else None,
                    created_at=now, updated_at=now)
    s.add(ticket)
    s.flush()  # the id makes the ticket number
    ticket.ticket_no = ticket_number(ticket.id, now)
    earlier = transcript(s, openid, now - TRANSCRIPT_WINDOW) if transcript else []
    for at, direction, in_id, content in earlier:
        if in_id == inbound_id and direction == "in":
            continue  # the triggering message is attached below, once
        s.add(TicketMessage(ticket_id=ticket.id, inbound_id=in_id, direction=direction,
                            content=content, created_at=at))
    s.add(TicketMessage(ticket_id=ticket.id, inbound_id=inbound_id, direction="in",
                        content=question, created_at=now))
    return ticket


def attach(s: Session, ticket: Ticket, direction: str, content: str,
           inbound_id: int | None = None, emergency: bool = False) -> None:
    now = utcnow()
    s.add(TicketMessage(ticket_id=ticket.id, inbound_id=inbound_id, direction=direction,
                        content=content, created_at=now))
    ticket.updated_at = now
    if emergency:
        ticket.priority = EMERGENCY


def close_ticket(s: Session, ticket_id: int) -> None:
    ticket = s.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    ticket.status = CLOSED
    ticket.closed_at = ticket.updated_at = utcnow()


def tickets_of(s: Session, openid: str, limit: int = 5) -> list[TicketView]:
    rows = s.scalars(select(Ticket).where(Ticket.openid == openid)
                     .order_by(Ticket.id.desc()).limit(limit))
    return [TicketView(t.id, t.ticket_no or "", t.openid, t.status, t.priority, t.created_at,
                       t.question) for t in rows]


def messages_of(s: Session, ticket_id: int) -> list[TicketMessage]:
    return list(s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
                          .order_by(TicketMessage.created_at, TicketMessage.id)))
