"""One JSON line per evaluated question (``fazhi eval --details``): what was decided and why,
so a person can read the cases behind the figures."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.outcome import Candidate, Decision, Outcome

TOP_CANDIDATES = 5


def answered_external_id(outcome: Outcome) -> str | None:
    """The external id of the entry behind an ``answer`` (None for other decisions)."""
    if outcome.decision is not Decision.ANSWER:
        return None
    entry = next((c for c in outcome.candidates if c.id == outcome.answered_entry_id), None)
    if entry is None and outcome.candidates:
        entry = outcome.candidates[0]
    return entry.external_id if entry else None


def candidate_details(candidate: Candidate, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "external_id": candidate.external_id, "kind": candidate.kind, "title": candidate.title,
        "score": candidate.score, "lexical": candidate.lexical, "dense": candidate.dense,
        # read defensively: the field is being added to Candidate separately
        "answerability": getattr(candidate, "answerability", None),
    }
    if labels is not None:
        row["label"] = labels.get(candidate.external_id or "")
    return row


def outcome_details(case_id: str, outcome: Outcome, labels: Mapping[str, str] | None = None,
                    top: int = TOP_CANDIDATES) -> dict[str, Any]:
    """The line for one question; with pair ``labels`` (entry external id → label) every
    candidate and the answered entry carry their label (None where the pair is unlabelled)."""
    row: dict[str, Any] = {
        "id": case_id, "query": outcome.query, "decision": outcome.decision.value,
        "confidence": outcome.confidence, "reason": outcome.reason,
        "area": getattr(outcome, "area", None),  # read defensively, as answerability
        "candidates": [candidate_details(c, labels) for c in outcome.candidates[:top]],
        "suggestions": [c.external_id for c in outcome.suggestions],
        "reply": outcome.reply,
    }
    if labels is not None:
        answered = answered_external_id(outcome)
        row["answered_entry"] = answered
        row["label"] = labels.get(answered) if answered else None
    return row
