"""What the assistant decides for one question: the boundary the channels consume."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.references import Reference


class Decision(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    ESCALATE = "escalate"
    DECLINE = "decline"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Candidate:
    """One knowledge-base entry the retriever found, with the evidence for it."""

    id: int
    external_id: str | None
    kind: str
    title: str
    category: str
    score: float  # fused score
    lexical: float | None = None
    dense: float | None = None
    lexical_rank: int | None = None
    dense_rank: int | None = None
    answerability: float | None = None  # P(this entry answers the question), for the first few


@dataclass(frozen=True)
class Outcome:
    """The assistant's decision, the reply messages (each ≤ 2048 bytes) and the evidence."""

    decision: Decision
    confidence: float
    messages: list[str]
    candidates: list[Candidate] = field(default_factory=list)
    query: str = ""
    normalized_query: str = ""
    answered_entry_id: int | None = None  # the entry behind an ``answer``
    answered_entry_version: int | None = None  # ... and the version of its text that was sent
    suggestions: list[Candidate] = field(default_factory=list)  # numbered choices
    area: str | None = None  # an uncovered area of law the question belongs to (the ticket's category)
    references: list[Reference] = field(default_factory=list)  # shown while a lawyer answers
    reason: str = ""  # short machine-readable why (e.g. "explicit_request", "low_confidence")
    latency_ms: float = 0.0

    @property
    def reply(self) -> str:
        return "\n".join(self.messages)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["decision"] = self.decision.value
        data["reply"] = self.reply
        return data
