"""The decision: answer, suggest, escalate, decline or emergency."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.outcome import Candidate, Decision


@dataclass(frozen=True)
class Thresholds:
    answer: float  # confidence at or above which the top entry is answered
    suggest: float  # confidence at or above which likely candidates are offered as choices
    suggest_floor: float  # a candidate's own answerability needed to be one of those choices


@dataclass(frozen=True)
class Signals:
    emergency: bool
    wants_person: bool
    legal: bool
    confidence: float
    out_of_scope: bool = False  # an area of law the knowledge base does not cover
    thanks: bool = False  # "好的，谢谢": an acknowledgement, not a question


def suggestions(candidates: list[Candidate], floor: float, limit: int = 3) -> list[Candidate]:
    """The candidates likely enough to be offered as "您是不是想问" choices, best first."""
    return [c for c in candidates[:limit] if (c.answerability or 0.0) >= floor]


def decide(signals: Signals, candidates: list[Candidate], t: Thresholds) -> tuple[Decision, str]:
    if signals.emergency:
        return Decision.EMERGENCY, "emergency"
    if signals.wants_person:
        return Decision.ESCALATE, "explicit_request"
    if signals.thanks:
        return Decision.DECLINE, "thanks"
    if not signals.legal:
        return Decision.DECLINE, "not_legal"
    if not candidates:
        return Decision.ESCALATE, "no_match"
    if signals.out_of_scope:
        return Decision.ESCALATE, "out_of_scope"
    if signals.confidence >= t.answer:
        return Decision.ANSWER, "confident"
    if signals.confidence >= t.suggest and len(suggestions(candidates, t.suggest_floor)) >= 2:
        return Decision.SUGGEST, "likely_candidates"
    return Decision.ESCALATE, "low_confidence"
