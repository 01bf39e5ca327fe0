"""Feedback with a reason, and the review tasks it opens.

A rating below ``DISLIKE_BELOW`` is a dislike: the dialogue stores it at once (with the
question the answer was for), opens or extends the entry's review task, and offers the
reasons; the resident's next one-tap number is stored on that rating.  An admin closes the
task once the entry has been looked at; a later dislike opens a new one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.dialogue.models import Rating
from assistant.learning.models import (
    REASON_CHOICES,
    AskedQuestion,
    FeedbackReason,
    InboundReader,
    ReviewTask,
    TaskStatus,
)
from assistant.pii import mask_numbers
from knowledge.db import rows_changed
from knowledge.models import Entry
from knowledge.timeutil import as_utc, utcnow

#: Ratings below this are dislikes (the prompt offers 5 满意 / 1 不满意).
DISLIKE_BELOW = 4
_REASON_DIGIT = re.compile(r"^([1-4１-４])\s*(?:[.。、号项个]|分)?$")
_REASON_WORDS = {"没回答我的问题": FeedbackReason.NOT_ANSWERED, "没回答": FeedbackReason.NOT_ANSWERED,
                 "答非所问": FeedbackReason.NOT_ANSWERED, "看不懂": FeedbackReason.UNCLEAR,
                 "不懂": FeedbackReason.UNCLEAR, "我觉得不对": FeedbackReason.WRONG,
                 "不对": FeedbackReason.WRONG, "其他": FeedbackReason.OTHER}


class LearningError(ValueError):
    """A learning-loop action that cannot be done (the message says why, in Chinese)."""


class TaskNotFound(LearningError):
    pass


class TaskClosed(LearningError):
    pass


def is_dislike(score: int) -> bool:
    return score < DISLIKE_BELOW


def parse_reason(text: str) -> FeedbackReason | None:
    """The reason a one-tap reply picks ("1".."4", or the reason's words), else None."""
    t = text.strip().rstrip("。！!.")
    if t in _REASON_WORDS:
        return _REASON_WORDS[t]
    m = _REASON_DIGIT.match(t)
    if m is None:
        return None
    digit = int(m.group(1).translate(str.maketrans("１２３４", "1234")))
    return REASON_CHOICES[digit - 1]


def record_dislike(s: Session, entry_id: int, at: datetime | None = None) -> ReviewTask:
    """Count a dislike on the entry's open review task, opening one if there is none.  Two
    first dislikes at once collide on ``open_entry_id`` (the caller retries)."""
    at = at or utcnow()
    task = s.scalar(select(ReviewTask).where(ReviewTask.open_entry_id == entry_id))
    if task is None:
        task = ReviewTask(entry_id=entry_id, open_entry_id=entry_id, status=TaskStatus.OPEN,
                          dislikes=1, opened_at=at, last_dislike_at=at)
        s.add(task)
        s.flush()
        return task
    s.execute(update(ReviewTask).where(ReviewTask.id == task.id)
              .values(dislikes=ReviewTask.dislikes + 1, last_dislike_at=at))
    s.refresh(task)
    return task


def give_reason(s: Session, openid: str, reason: FeedbackReason) -> Rating | None:
    """Store ``reason`` on the resident's latest dislike that has none yet."""
    rating = s.scalar(select(Rating).where(Rating.openid == openid)
                      .order_by(Rating.id.desc()).limit(1))
    if rating is None or not is_dislike(rating.score) or rating.reason is not None:
        return None
    rating.reason = reason.value
    return rating


# -- what the admin sees -------------------------------------------------------------------

@dataclass(frozen=True)
class Dislike:
    at: datetime
    score: int
    reason: FeedbackReason | None
    question: str | None  # masked; None when the question is unknown or purged


@dataclass(frozen=True)
class TaskView:
    id: int
    entry_id: int
    entry_title: str
    entry_status: str | None  # None: the entry no longer exists
    status: TaskStatus
    dislikes: int
    opened_at: datetime
    last_dislike_at: datetime
    closed_at: datetime | None
    reasons: dict[FeedbackReason, int]
    recent: list[Dislike]  # newest first


def _dislikes_of(s: Session, task: ReviewTask, reader: InboundReader,
                 limit: int) -> tuple[dict[FeedbackReason, int], list[Dislike]]:
    stmt = select(Rating).where(Rating.entry_id == task.entry_id, Rating.score < DISLIKE_BELOW,
                                Rating.created_at >= task.opened_at)
    if task.closed_at is not None:
        stmt = stmt.where(Rating.created_at <= task.closed_at)
    ratings = list(s.scalars(stmt.order_by(Rating.id.desc())))
    counts: dict[FeedbackReason, int] = {}
    for r in ratings:
        if r.reason:
            reason = FeedbackReason(r.reason)
            counts[reason] = counts.get(reason, 0) + 1
    shown = ratings[:limit]
    asked = reader.by_ids(s, [r.question_inbound_id for r in shown if r.question_inbound_id])
    recent = []
    for r in shown:
        q: AskedQuestion | None = asked.get(r.question_inbound_id) if r.question_inbound_id else None
        recent.append(Dislike(as_utc(r.created_at), r.score,
                              FeedbackReason(r.reason) if r.reason else None,
                              mask_numbers(q.text) if q and q.text else None))
    return counts, recent


def tasks(s: Session, reader: InboundReader, status: TaskStatus = TaskStatus.OPEN,
          limit: int = 50, shown_dislikes: int = 5) -> list[TaskView]:
    """Review tasks, the most disliked first (open) or the latest closed first."""
    stmt = select(ReviewTask).where(ReviewTask.status == status)
    stmt = (stmt.order_by(ReviewTask.dislikes.desc(), ReviewTask.last_dislike_at.desc())
            if status is TaskStatus.OPEN else stmt.order_by(ReviewTask.closed_at.desc()))
    rows = list(s.scalars(stmt.limit(limit)))
    entries = {e.id: e for e in s.scalars(select(Entry).where(Entry.id.in_({t.entry_id for t in rows})))}
    views = []
    for t in rows:
        entry = entries.get(t.entry_id)
        counts, recent = _dislikes_of(s, t, reader, shown_dislikes)
        views.append(TaskView(t.id, t.entry_id, entry.title if entry else f"条目 {t.entry_id}（已删除）",
                              entry.status if entry else None, TaskStatus(t.status), t.dislikes,
                              as_utc(t.opened_at), as_utc(t.last_dislike_at), as_utc(t.closed_at),
                              counts, recent))
    return views


def open_task_count(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(ReviewTask)
                    .where(ReviewTask.status == TaskStatus.OPEN)) or 0


def close_task(s: Session, task_id: int, staff_id: int, note: str = "") -> ReviewTask:
    """Close an open task (one conditional UPDATE: of two admins closing at once, one does)."""
    task = s.get(ReviewTask, task_id)
    if task is None:
        raise TaskNotFound(f"没有编号为 {task_id} 的复核任务")
    done = s.execute(update(ReviewTask)
                     .where(ReviewTask.id == task_id, ReviewTask.status == TaskStatus.OPEN)
                     .values(status=TaskStatus.CLOSED, open_entry_id=None, closed_at=utcnow(),
                             closed_by=staff_id, note=note.strip()[:500] or None))
    if rows_changed(done) != 1:
        raise TaskClosed("该复核任务已经关闭")
    s.refresh(task)
    return task
