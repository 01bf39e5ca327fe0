"""What the learning loop stores and passes around.

Tables (migration ``0011_feedback_learning``): ``learn_review_tasks``, one per episode of
dislikes of an entry (``open_entry_id`` is set, and unique, only while the task is open, so
an entry has at most one open task), and ``learn_drafts``, the drafts made from a group of
unanswered questions (so the page can say which groups already have one).  The reason a
resident gives for a dislike is stored on the rating itself (``wx_ratings.reason``).

The residents' messages live in the channel's inbound log, which this package may not
import: the channel supplies an ``InboundReader`` that returns them as ``AskedQuestion``.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class FeedbackReason(StrEnum):
    """Why a resident disliked an automatic answer (offered as one-tap numbers)."""

    NOT_ANSWERED = "not_answered"
    UNCLEAR = "unclear"
    WRONG = "wrong"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {FeedbackReason.NOT_ANSWERED: "没回答我的问题", FeedbackReason.UNCLEAR: "看不懂",
                 FeedbackReason.WRONG: "我觉得不对", FeedbackReason.OTHER: "其他"}
#: The order of the numbers the resident is offered: 1 → NOT_ANSWERED, ...
REASON_CHOICES = (FeedbackReason.NOT_ANSWERED, FeedbackReason.UNCLEAR, FeedbackReason.WRONG,
                  FeedbackReason.OTHER)


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Unanswered(StrEnum):
    """Why a question is on the unanswered page."""

    ESCALATED = "escalated"  # handed to a lawyer: we could not answer it
    LOW_CONFIDENCE = "low_confidence"  # only choices offered, or answered just above the threshold
    DECLINED = "declined"  # declined as not legal, though long enough to be a real question
    DISLIKED = "disliked"  # answered, and the resident said the answer did not help

    @property
    def label(self) -> str:
        return UNANSWERED_LABELS[self]


UNANSWERED_LABELS = {Unanswered.ESCALATED: "转人工", Unanswered.LOW_CONFIDENCE: "低置信",
                     Unanswered.DECLINED: "被拒答", Unanswered.DISLIKED: "不满意"}


class ReviewTask(Base):
    """An admin's task to look at an entry residents disliked; closed by an admin."""

    __tablename__ = "learn_review_tasks"
    __table_args__ = (UniqueConstraint("open_entry_id", name="uq_learn_review_tasks_open_entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    open_entry_id: Mapped[int | None] = mapped_column(Integer)  # = entry_id while open
    status: Mapped[str] = mapped_column(String(16), index=True, default=TaskStatus.OPEN)
    dislikes: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_dislike_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(Integer)  # users.id
    note: Mapped[str | None] = mapped_column(String(500))


class GroupDraft(Base):
    """A knowledge-base draft written from a group of unanswered questions."""

    __tablename__ = "learn_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    inbound_ids: Mapped[list] = mapped_column(JSON, default=list)  # the group's questions
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class AskedQuestion:
    """One resident message as the channel logged it, with what the assistant decided."""

    inbound_id: int
    openid: str
    text: str
    received_at: datetime
    decision: str | None
    reason: str | None = None
    confidence: float | None = None
    entry_id: int | None = None
    category: str | None = None
    ticket_no: str | None = None


class InboundReader(Protocol):
    """The channel's inbound log, read for the learning loop."""

    def candidates(self, s: Session, start: datetime, end: datetime, answered_below: float,
                   limit: int) -> list[AskedQuestion]:
        """Text messages received in [start, end), newest first, at most ``limit``, that were
        escalated, offered choices, declined, or answered with confidence below
        ``answered_below`` (the rules in ``unanswered`` pick from these)."""
        ...

    def by_ids(self, s: Session, ids: Collection[int]) -> dict[int, AskedQuestion]:
        """The messages with these ids (purged or missing ones left out)."""
        ...
