"""What other thresholds would do, from one evaluation pass.

The thresholds only matter where the assistant decided on confidence (reasons ``confident``,
``likely_candidates``, ``low_confidence``): every other decision (emergency, a request for a
person, thanks, not legal, no match, out of scope) is the same at any threshold.  So one
``respond`` per question is kept as an ``Observation`` (confidence, the candidates'
answerability in their final order, the labels), and ``assistant.policy.decide`` is applied
again with other thresholds; ``assistant.pair_eval.pair_metrics`` measures the result.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.outcome import Candidate, Decision, Outcome
from assistant.pair_eval import PairResult, pair_metrics
from assistant.policy import Signals, Thresholds, decide, suggestions

THRESHOLD_REASONS = frozenset({"confident", "likely_candidates", "low_confidence"})
ANSWER_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
SUGGEST_GRID = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
RANK_DEPTH = 5  # the candidates kept per question (recall@5, MRR over the first five)


@dataclass(frozen=True)
class Observation:
    """One question's outcome, reduced to what deciding again and measuring need."""

    id: str
    decision: str
    reason: str
    confidence: float
    candidates: tuple[tuple[str | None, float | None], ...]  # (external id, answerability), final order
    answered: str | None = None
    suggestions: tuple[str | None, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # external id → right / partial / wrong
    default_label: str | None = None  # the label of an entry not in ``labels`` (None: unlabelled)

    def label(self, external_id: str | None) -> str | None:
        if external_id is None:
            return None
        return self.labels.get(external_id, self.default_label)


def from_outcome(case_id: str, outcome: Outcome, labels: Mapping[str, str] | None = None,
                 default_label: str | None = None) -> Observation:
    answered = None
    if outcome.decision is Decision.ANSWER:
        answered = next((c.external_id for c in outcome.candidates if c.id == outcome.answered_entry_id), None)
    return Observation(case_id, outcome.decision.value, outcome.reason, outcome.confidence,
                       tuple((c.external_id, c.answerability) for c in outcome.candidates[:RANK_DEPTH]),
                       answered, tuple(c.external_id for c in outcome.suggestions), dict(labels or {}),
                       default_label)


def from_details(row: Mapping[str, Any], labels: Mapping[str, str]) -> Observation:
    """From a ``fazhi eval --details`` line (``assistant.eval_details.outcome_details``)."""
    return Observation(str(row["id"]), row["decision"], row["reason"], row["confidence"],
                       tuple((c["external_id"], c["answerability"]) for c in row["candidates"][:RANK_DEPTH]),
                       row.get("answered_entry"), tuple(row["suggestions"]), dict(labels))


def redecide(obs: Observation, t: Thresholds) -> tuple[str, str | None, tuple[str | None, ...]]:
    """The decision, the answered entry and the offered ones at thresholds ``t``."""
    if obs.reason not in THRESHOLD_REASONS:
        return obs.decision, obs.answered, obs.suggestions
    cands = [Candidate(i, ext, "", "", "", 0.0, answerability=a) for i, (ext, a) in enumerate(obs.candidates)]
    decision, _why = decide(Signals(emergency=False, wants_person=False, legal=True, confidence=obs.confidence),
                            cands, t)
    answered = cands[0].external_id if decision is Decision.ANSWER else None
    offered = tuple(c.external_id for c in suggestions(cands, t.suggest_floor)) if decision is Decision.SUGGEST \
        else ()
    return decision.value, answered, offered


def result_at(obs: Observation, t: Thresholds) -> PairResult:
    decision, answered, offered = redecide(obs, t)
    top = obs.candidates[0][0] if obs.candidates else None
    return PairResult(obs.id, decision, obs.confidence, obs.label(top),
                      obs.label(answered) if answered is not None else None, tuple(obs.label(x) for x in offered))


def metrics_at(observations: Iterable[Observation], t: Thresholds) -> dict[str, Any]:
    return pair_metrics([result_at(o, t) for o in observations])


def answer_table(observations: list[Observation], current: Thresholds) -> list[dict[str, Any]]:
    """Per answer threshold (the other two as now, lowered where they would exceed it): how
    many questions are answered, and how many of those answers are right."""
    rows = []
    for a in sorted({*ANSWER_GRID, current.answer}):
        t = Thresholds(a, min(current.suggest, a), min(current.suggest_floor, a))
        m = metrics_at(observations, t)
        rows.append({"answer": a, "answered": m["answered"], "answered_share": m["decision_shares"]["answer"],
                     "precision": m["precision"], "right_or_partial_rate": m["right_or_partial_rate"],
                     "unlabelled": m["answered_unlabelled"], "current": a == current.answer})
    return rows


def suggest_table(observations: list[Observation], current: Thresholds) -> list[dict[str, Any]]:
    """Per suggest threshold at the current answer threshold: how many questions get choices,
    how often a right entry is among them, and how many go to a lawyer."""
    rows = []
    for s in sorted({*SUGGEST_GRID, current.suggest}):
        if s > current.answer:
            continue
        t = Thresholds(current.answer, s, min(current.suggest_floor, s))
        m = metrics_at(observations, t)
        rows.append({"suggest": s, "suggested": m["suggested"], "suggested_share": m["decision_shares"]["suggest"],
                     "suggest_hit_rate": m["suggest_hit_rate"], "escalation_share": m["escalation_share"],
                     "current": s == current.suggest})
    return rows


def ranking(observations: Iterable[Observation]) -> dict[str, Any]:
    """recall@1, recall@5 and MRR over the first five candidates, for the questions with a
    right entry among their labels."""
    ranks: list[int | None] = []
    for obs in observations:
        if "right" not in obs.labels.values():
            continue
        ranks.append(next((i for i, (ext, _a) in enumerate(obs.candidates, 1) if obs.label(ext) == "right"), None))
    n = len(ranks)
    return {"n": n, "depth": RANK_DEPTH,
            "recall_at_1": round(sum(1 for r in ranks if r == 1) / n, 4) if n else None,
            "recall_at_5": round(sum(1 for r in ranks if r and r <= 5) / n, 4) if n else None,
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4) if n else None}


def label_confusion(observations: Iterable[Observation]) -> dict[str, dict[str, int]]:
    """The top candidate's label × the decision taken."""
    table: dict[str, dict[str, int]] = {}
    for obs in observations:
        top = obs.candidates[0][0] if obs.candidates else None
        row = table.setdefault(obs.label(top) or "unlabelled", {})
        row[obs.decision] = row.get(obs.decision, 0) + 1
    return table
