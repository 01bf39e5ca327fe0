"""Which residents' questions count as unanswered, and collecting them for a date range.

* escalated: handed to a lawyer because we could not answer it (no match, low confidence,
  an area of law we do not cover), not a bare "转人工" nor an emergency (both say nothing
  about a gap in the knowledge base);
* low confidence: only choices were offered, or answered below the answer threshold plus a
  margin (answered, but only just);
* declined: declined as not legal (``policy.decide``'s ``not_legal``, not ``thanks``), and
  long enough not to be small talk: the legal check errs on such messages;
* disliked: the question of an answer the resident rated as not helpful.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.dialogue.models import Rating
from assistant.learning.feedback import DISLIKE_BELOW
from assistant.learning.models import AskedQuestion, FeedbackReason, InboundReader, Unanswered
from assistant.learning.settings import LearningSettings

ESCALATE_REASONS = frozenset({"no_match", "low_confidence", "out_of_scope"})
DECLINE_REASONS = frozenset({"not_legal"})


@dataclass(frozen=True)
class Rules:
    answer_threshold: float  # the assistant's (``AssistantSettings.answer_threshold``)
    answer_margin: float = 0.10
    min_declined_chars: int = 12

    @classmethod
    def of(cls, answer_threshold: float, settings: LearningSettings) -> Rules:
        return cls(answer_threshold, settings.learning_answer_margin,
                   settings.learning_min_declined_chars)

    @property
    def answered_below(self) -> float:
        return self.answer_threshold + self.answer_margin


@dataclass(frozen=True)
class Question:
    """An unanswered question: the message, why it is here, a dislike's reason."""

    asked: AskedQuestion
    kind: Unanswered
    feedback: FeedbackReason | None = None
    rated_entry_id: int | None = None  # the entry whose answer was disliked

    @property
    def text(self) -> str:
        return self.asked.text


def classify(q: AskedQuestion, rules: Rules) -> Unanswered | None:
    """Why this message counts as unanswered, or None."""
    if not q.text.strip():
        return None  # purged
    if q.decision == "escalate":
        return Unanswered.ESCALATED if q.reason in ESCALATE_REASONS else None
    if q.decision == "suggest":
        return Unanswered.LOW_CONFIDENCE
    if q.decision == "answer":
        if q.reason == "picked" or q.confidence is None:
            return None  # a choice the resident picked: that message is a number
        return Unanswered.LOW_CONFIDENCE if q.confidence < rules.answered_below else None
    if q.decision == "decline":
        long_enough = len(q.text.strip()) >= rules.min_declined_chars
        return Unanswered.DECLINED if q.reason in DECLINE_REASONS and long_enough else None
    return None


def collect(s: Session, reader: InboundReader, start: datetime, end: datetime, rules: Rules,
            limit: int = 2000) -> list[Question]:
    """The unanswered questions asked in [start, end), newest first, at most ``limit``.  A
    disliked answer's question counts once, as disliked (whatever else it was)."""
    found: dict[int, Question] = {}
    ratings = list(s.scalars(
        select(Rating).where(Rating.created_at >= start, Rating.created_at < end,
                             Rating.score < DISLIKE_BELOW, Rating.question_inbound_id.is_not(None))
        .order_by(Rating.id.desc()).limit(limit)))
    asked = reader.by_ids(s, {r.question_inbound_id for r in ratings if r.question_inbound_id})
    for r in ratings:
        q = asked.get(r.question_inbound_id or 0)
        if q is None or not q.text.strip() or q.inbound_id in found:
            continue
        found[q.inbound_id] = Question(q, Unanswered.DISLIKED,
                                       FeedbackReason(r.reason) if r.reason else None, r.entry_id)
    for q in reader.candidates(s, start, end, rules.answered_below, limit):
        if q.inbound_id in found:
            continue
        kind = classify(q, rules)
        if kind is not None:
            found[q.inbound_id] = Question(q, kind)
    newest = sorted(found.values(), key=lambda x: (x.asked.received_at, x.asked.inbound_id),
                    reverse=True)
    return newest[:limit]
