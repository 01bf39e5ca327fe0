"""Fitting the answerability curve (``fazhi calibrate``) on pair-labelled real questions.

Every labelled (question, candidate) pair among the first ``RERANK`` candidates is one
example: right, or not (partial and wrong). A question file with ``relevant`` ids counts
its relevant entries as right and every other candidate as wrong. The small-talk decline
margin is set on our own small-talk examples (each left out of the set it is compared to),
never on an evaluation file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant import intents
from assistant.answerability import candidate_features
from assistant.confidence import LogisticCalibration, fit_logistic
from assistant.pair_eval import PairQuestion
from assistant.service import Assistant
from index.retriever import Mode

MIN_RIGHT = 20  # fewer right pairs than this cannot pin a curve down
DECLINE_SHARE = 0.97  # of our small-talk examples without legal words, at the fitted margin


class CalibrationDataError(ValueError):
    """Labelled data that cannot support a fit."""


@dataclass(frozen=True)
class LabelledQuestion:
    question: PairQuestion
    text: str
    default: str | None = None  # the label of an unlabelled candidate (None: not an example)


@dataclass(frozen=True)
class Example:
    question_id: str
    rank: int
    features: np.ndarray
    label: str


def examples(assistant: Assistant, questions: list[LabelledQuestion], mode: Mode) -> list[Example]:
    """The labelled pairs among each question's first candidates, with their features."""
    out: list[Example] = []
    for lq in questions:
        result = assistant.search(lq.text, mode)
        for rank, (hit, feats) in enumerate(zip(result.hits, candidate_features(result, assistant.retriever))):
            label = lq.question.labels.get(hit.doc.external_id or "", lq.default)
            if label is not None:
                out.append(Example(lq.question.id, rank, feats, label))
    return out


def fit(found: list[Example], source: str) -> LogisticCalibration:
    y = np.array([1.0 if e.label == "right" else 0.0 for e in found])
    if y.sum() < MIN_RIGHT:
        raise CalibrationDataError(f"only {int(y.sum())} right pairs among the first candidates; "
                                   f"a fit needs at least {MIN_RIGHT}")
    coef, intercept = fit_logistic(np.array([e.features for e in found]), y, l2=1.0)
    return LogisticCalibration(coef, intercept, n=len(y), source=source)


def threshold_table(found: list[Example], curve: LogisticCalibration, n_questions: int) -> list[dict]:
    """Per answer threshold: the share of questions answered, and of those answers the share
    right and right-or-partly (each question answered with its most answerable candidate)."""
    best: dict[str, tuple[float, str]] = {}
    for e in found:
        p = curve.probability(e.features)
        if e.question_id not in best or p > best[e.question_id][0]:
            best[e.question_id] = (p, e.label)
    rows = []
    for t in np.arange(0.1, 0.95, 0.05):
        answered = [label for p, label in best.values() if p >= t]
        n = len(answered)
        rows.append({"threshold": round(float(t), 2), "answered": round(n / max(n_questions, 1), 3),
                     "right": sum(1 for x in answered if x == "right"),
                     "precision": round(sum(1 for x in answered if x == "right") / n, 3) if n else None,
                     "right_or_partly": round(sum(1 for x in answered if x != "wrong") / n, 3) if n else None})
    return rows


def smalltalk_margin(assistant: Assistant) -> float:
    """The margin at which ``DECLINE_SHARE`` of our small-talk examples without legal words are
    declined, each compared with the other examples only."""
    examples_ = intents.smalltalk_examples()
    vectors = assistant.legal.smalltalk
    gaps = []
    for i, text in enumerate(examples_):
        if intents.has_legal_terms(text, assistant.retriever.segmenter.legal_terms(text)):
            continue
        result = assistant.search(text, Mode.HYBRID, k=1)
        if result.query_vector is None:
            continue
        others = np.delete(vectors, i, axis=0) @ result.query_vector
        gaps.append(result.nearest_dense - float(others.max()))
    if not gaps:
        return assistant.legal.margin
    return float(np.quantile(np.array(gaps), DECLINE_SHARE)) + 1e-4
