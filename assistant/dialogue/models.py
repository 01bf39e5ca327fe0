"""ORM models of the resident's side of a conversation: its state and the ratings given.

The schema is created by migration ``0002_channel`` (feedback reasons: ``0011``).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class State(StrEnum):
    """What the resident's next message means."""

    IDLE = "idle"
    AWAITING_CHOICE = "awaiting_choice"
    AWAITING_RATING = "awaiting_rating"
    AWAITING_TICKET_RATING = "awaiting_ticket_rating"
    AWAITING_REASON = "awaiting_reason"  # after a dislike: why (assistant.learning.feedback)


class Conversation(Base):
    """One row per resident: what the next message means (a choice, a rating, a question)."""

    __tablename__ = "wx_conversations"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(24), default=State.IDLE)
    suggestions: Mapped[list] = mapped_column(JSON, default=list)  # [{"id", "title"}]
    last_topic: Mapped[str | None] = mapped_column(Text)  # last substantive question
    history: Mapped[list] = mapped_column(JSON, default=list)  # recent questions, newest last
    last_entry_id: Mapped[int | None] = mapped_column(Integer)  # the entry a rating refers to
    rating_ticket_id: Mapped[int | None] = mapped_column(Integer)  # the lawyer answer it rates
    # The message that asked what the current answer (or choices) answers (0011).
    question_inbound_id: Mapped[int | None] = mapped_column(Integer)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(Base):
    __tablename__ = "wx_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    entry_id: Mapped[int | None] = mapped_column(Integer, index=True)
    score: Mapped[int] = mapped_column(Integer)
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A dislike's reason (assistant.learning.models.FeedbackReason) and the message that
    # asked the question the rated answer was for (0011).
    reason: Mapped[str | None] = mapped_column(String(16))
    question_inbound_id: Mapped[int | None] = mapped_column(Integer)
