"""The decision: answer, suggest, escalate, decline or emergency."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.outcome import Candidate, Decision


@dataclass(frozen=True)
class Thresholds:
    answer: float  # confidence at or above which the top entry is answered
    suggest: float  # confidence at or above which close candidates are offered
    suggest_margin: float  # fused-score distance from the top that still counts as close


@dataclass(frozen=True)
class Signals:
    emergency: bool
    wants_person: bool
    legal: bool
    confidence: float


def close_candidates(candidates: list[Candidate], margin: float, limit: int = 3) -> list[Candidate]:
    if not candidates:
        return []
    top = candidates[0].score
    return [c for c in candidates if top - c.score <= margin][:limit]


def decide(signals: Signals, candidates: list[Candidate], t: Thresholds) -> tuple[Decision, str]:
    if signals.emergency:
        return Decision.EMERGENCY, "emergency"
    if signals.wants_person:
        return Decision.ESCALATE, "explicit_request"
    if not signals.legal:
        return Decision.DECLINE, "not_legal"
    if not candidates:
        return Decision.ESCALATE, "no_match"
    if signals.confidence >= t.answer:
        return Decision.ANSWER, "confident"
    if signals.confidence >= t.suggest and len(close_candidates(candidates, t.suggest_margin)) >= 2:
        return Decision.SUGGEST, "close_candidates"
    return Decision.ESCALATE, "low_confidence"
