"""ORM models of the lawyer queue: tickets and their conversations.

Residents are identified only by their WeChat OpenID; no real names are stored.
The schema is created by migrations ``0002_channel`` and ``0004_lawyer_queue``.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class TicketStatus(StrEnum):
    """Where a ticket is in its lifecycle (the allowed moves: ``lifecycle.ALLOWED``)."""

    WAITING = "waiting"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    REOPENED = "reopened"
    EXPIRED = "expired"


class Priority(StrEnum):
    EMERGENCY = "emergency"
    NORMAL = "normal"


class Direction(StrEnum):
    """Who wrote a line of a ticket's conversation."""

    IN = "in"  # the resident
    OUT = "out"  # the assistant
    LAWYER = "lawyer"  # a lawyer's reply, by ``author_id``


class Ticket(Base):
    """An escalation for a lawyer: the lawyer queue reads and moves these rows.

    ``status`` is a ``TicketStatus``; ``claimed_by`` is the owning lawyer (users.id).
    """

    __tablename__ = "wx_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=TicketStatus.WAITING)
    priority: Mapped[str] = mapped_column(String(16), index=True, default=Priority.NORMAL)
    reason: Mapped[str] = mapped_column(String(64), default="")
    question: Mapped[str] = mapped_column(Text, default="")
    candidates: Mapped[list] = mapped_column(JSON, default=list)  # [{"id","title","score",...}]
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    region: Mapped[str | None] = mapped_column(String(64))
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    claimed_by: Mapped[int | None] = mapped_column(Integer, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    kb_entry_id: Mapped[int | None] = mapped_column(Integer)  # draft made from the answer


class TicketMessage(Base):
    """The conversation attached to a ticket: resident messages and our replies."""

    __tablename__ = "wx_ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("wx_tickets.id", ondelete="CASCADE"),
                                           index=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
