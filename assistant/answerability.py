"""Answerability: the probability that one candidate entry answers the resident's question.

Similarity alone rewards an entry that shares one striking keyword with the question (a
"magnet"). These features also ask how much of the question's content the entry covers,
whether the question's rarest word appears in the entry at all, and how much of the
entry's own question the resident's words contain. A logistic curve over them is fitted
on pair-labelled real questions (``fazhi calibrate``); the first candidates are re-ranked
by it, and the best one's probability is the outcome's confidence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.retriever import Hit, Retriever, SearchResult

FEATURES = ("score", "margin", "dense", "lexical", "query_coverage", "title_coverage", "missing_rare",
            "questions")
MAX_QUESTIONS = 3
RERANK = 3  # candidates re-ranked by answerability: the ones a resident could be offered


@dataclass(frozen=True)
class QueryTerms:
    """The query's distinct tokens known to the lexical index, with their idf."""

    ids: np.ndarray
    idf: np.ndarray


def query_terms(result: SearchResult, retriever: Retriever) -> QueryTerms:
    bm25 = retriever.index.bm25
    ids = np.array(sorted({bm25.vocab[t] for t in result.tokens if t in bm25.vocab}), dtype=np.int64)
    return QueryTerms(ids, bm25.idf[ids] if ids.size else np.zeros(0, dtype=np.float32))


def _present(retriever: Retriever, row: int, term_ids: np.ndarray) -> np.ndarray:
    """Which of ``term_ids`` occur in document ``row``: a binary search in each term's column."""
    m = retriever.index.bm25.weights
    out = np.zeros(len(term_ids), dtype=bool)
    for i, t in enumerate(term_ids):
        rows = m.indices[m.indptr[t]:m.indptr[t + 1]]
        j = int(np.searchsorted(rows, row))
        out[i] = j < len(rows) and rows[j] == row
    return out


def _coverage(retriever: Retriever, row: int | None, q: QueryTerms) -> tuple[float, float]:
    """(idf share of the query found in the entry, rarest missing word's idf / rarest word's)."""
    if row is None or not q.ids.size:
        return 0.0, 1.0
    present = _present(retriever, row, q.ids)
    total = float(q.idf.sum())
    missing = q.idf[~present]
    coverage = float(q.idf[present].sum()) / total if total else 0.0
    return coverage, float(missing.max()) / float(q.idf.max()) if missing.size else 0.0


def _title_coverage(title: str, query_tokens: set[str], retriever: Retriever) -> float:
    """Idf share of the entry's own question (its title) that the resident's words contain."""
    bm25 = retriever.index.bm25
    weights = {t: float(bm25.idf[bm25.vocab[t]]) for t in retriever.segmenter.tokens(title) if t in bm25.vocab}
    total = sum(weights.values())
    return sum(v for t, v in weights.items() if t in query_tokens) / total if total else 0.0


def candidate_features(result: SearchResult, retriever: Retriever) -> list[np.ndarray]:
    """The features of each of the first ``RERANK`` candidates, in ranking order."""
    hits = result.hits[:RERANK]
    q = query_terms(result, retriever)
    tokens = set(result.tokens)
    # Whether the message asks outright or only tells its story: on the calibration part a
    # message with a question mark is answered right by its best entry more often.
    questions = min(sum(result.normalized_query.count(m) for m in "?？"), MAX_QUESTIONS)
    out = []
    for i, hit in enumerate(hits):
        others = [h.score for j, h in enumerate(result.hits[:RERANK + 1]) if j != i]
        row = retriever.row_of(hit.doc.entry_id)
        coverage, missing_rare = _coverage(retriever, row, q)
        out.append(np.array([
            hit.score, hit.score - (max(others) if others else 0.0), _dense(result, retriever, row, hit),
            hit.lexical, coverage, _title_coverage(hit.doc.title, tokens, retriever), missing_rare, questions,
        ], dtype=np.float64))
    return out


def _dense(result: SearchResult, retriever: Retriever, row: int | None, hit: Hit) -> float:
    """The candidate's cosine to the query. The search knows it for an entry with a passage among
    the nearest ones (its best passage is then among them too); the others are computed here."""
    if hit.dense > -1.0 or result.query_vector is None or row is None:
        return max(hit.dense, 0.0)
    return max(retriever.index.dense.similarity(result.query_vector, row), 0.0)
