"""Unanswered questions grouped by meaning: embedded with the assistant's embedder (query
vectors cached by text hash, so a page view embeds only questions it has not seen), then
clustered agglomeratively (average linkage on cosine distance, cut at a distance threshold).

The threshold was measured on real text with multilingual-e5-small: the seed's 701 FAQs
(3,069 phrasings: question and alternatives) mixed with 1,500 real residents' questions from
``faq_lawyer_llama``.  e5's cosine similarities are compressed (two unrelated legal questions
already score about 0.85).  Against the seed's phrasing sets (strict: many seed FAQs share a
topic), average linkage gave pair precision / recall 0.39 / 0.15 at a cut of 0.06, 0.35 / 0.19
at 0.065, 0.21 / 0.35 at 0.08, with 88% of merged pairs in one category; complete and single
linkage did worse at every cut, and centring the vectors did not help.  Residents' own
paraphrases of one situation score 0.91-0.96 with each other and 0.83-0.87 with other
situations (tests/assistant/learning/test_groups.py): a cut at 0.065 splits some of them off,
0.08 keeps each situation in one group.  Read on the real questions, 0.08 gives topical
groups an FAQ could answer (抚养费, 孩子判给谁, 异地办理离婚, 离婚请律师的费用), with half
of the questions left alone; 0.10 starts merging topics (its largest group holds 87).
The tests' hashing embedder has no semantics: character overlap, best cut 0.70.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from assistant.learning.models import FeedbackReason, Unanswered
from assistant.learning.unanswered import Question
from assistant.outcome import Outcome
from assistant.pii import mask_numbers
from index.embedder import HASHING, Embedder, model_slug
from index.vector_cache import VectorCache, text_hash

#: Cosine distance at which groups stop merging, per embedder (see the module docstring).
DISTANCE_BY_MODEL = {HASHING: 0.70}
DEFAULT_DISTANCE = 0.08
MAX_TEXT_CHARS = 500  # what the assistant reads of a message, too


def distance_for(embedder_name: str, configured: float | None = None) -> float:
    if configured is not None:
        return configured
    return DISTANCE_BY_MODEL.get(embedder_name, DEFAULT_DISTANCE)


def question_vector_files(cache_dir: Path) -> list[Path]:
    """The question-vector caches (every model's): derived from residents' text, so a
    retention purge deletes them."""
    return sorted(cache_dir.glob("question-vectors-*.sqlite"))


class QuestionVectors:
    """Query vectors of residents' questions, cached by text hash in one SQLite file per
    model under the cache dir (passage vectors of the index live in another)."""

    def __init__(self, embedder: Embedder, cache_dir: Path) -> None:
        self.embedder = embedder
        self.path = cache_dir / f"question-vectors-{model_slug(embedder.name)}.sqlite"

    def encode(self, texts: list[str]) -> np.ndarray:
        clipped = [t[:MAX_TEXT_CHARS] for t in texts]
        if not clipped:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        cache = VectorCache(self.path, self.embedder.dim)
        try:
            hashes = [text_hash(t) for t in clipped]
            known = cache.get_many(sorted(set(hashes)))
            todo = sorted({h: t for h, t in zip(hashes, clipped) if h not in known}.items())
            for start in range(0, len(todo), 256):
                chunk = todo[start:start + 256]
                vecs = self.embedder.encode_queries([t for _, t in chunk])
                fresh = {h: np.asarray(v, dtype=np.float32) for (h, _), v in zip(chunk, vecs)}
                cache.put_many(fresh)
                known.update(fresh)
            return np.stack([known[h] for h in hashes]).astype(np.float32)
        finally:
            cache.close()

    def cached(self, texts: list[str]) -> int:
        """How many of ``texts`` already have a cached vector."""
        cache = VectorCache(self.path, self.embedder.dim)
        try:
            return len(cache.get_many(sorted({text_hash(t[:MAX_TEXT_CHARS]) for t in texts})))
        finally:
            cache.close()


def cluster(vectors: np.ndarray, distance: float) -> list[int]:
    """A cluster label per row: average linkage on cosine distance, cut at ``distance``."""
    n = len(vectors)
    if n <= 1:
        return [0] * n
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    # Rounding can leave tiny negative distances; the metric needs them clipped.
    tree = linkage(unit.astype(np.float64), method="average", metric="cosine")
    tree[:, 2] = np.clip(tree[:, 2], 0.0, None)
    return [int(x) for x in fcluster(tree, t=distance, criterion="distance")]


@dataclass(frozen=True)
class NearEntry:
    """An entry a group's questions nearly matched."""

    id: int
    title: str
    category: str
    answerability: float | None


@dataclass
class Group:
    """Questions that mean the same, newest first; ``representative`` is the most central."""

    questions: list[Question]
    representative: Question
    cohesion: float  # mean cosine similarity of the members to the representative
    near: list[NearEntry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def key(self) -> str:
        """Stable for the same members: names the group in links and forms."""
        ids = ",".join(str(i) for i in sorted(self.inbound_ids))
        return hashlib.sha256(ids.encode()).hexdigest()[:12]

    @property
    def inbound_ids(self) -> list[int]:
        return [q.asked.inbound_id for q in self.questions]

    @property
    def residents(self) -> int:
        return len({q.asked.openid for q in self.questions})

    @property
    def first_at(self) -> datetime:
        return min(q.asked.received_at for q in self.questions)

    @property
    def last_at(self) -> datetime:
        return max(q.asked.received_at for q in self.questions)

    @property
    def kinds(self) -> list[tuple[Unanswered, int]]:
        counts = Counter(q.kind for q in self.questions)
        return [(k, counts[k]) for k in Unanswered if counts[k]]

    @property
    def reasons(self) -> list[tuple[FeedbackReason, int]]:
        counts = Counter(q.feedback for q in self.questions if q.feedback is not None)
        return [(r, counts[r]) for r in FeedbackReason if counts[r]]

    @property
    def category(self) -> str | None:
        cats = Counter(q.asked.category for q in self.questions if q.asked.category)
        return cats.most_common(1)[0][0] if cats else None

    @property
    def disliked_entries(self) -> list[int]:
        """The entries whose answers residents disliked, the most disliked first."""
        counts = Counter(q.rated_entry_id for q in self.questions if q.rated_entry_id is not None)
        return [e for e, _n in counts.most_common()]

    @property
    def ticket_nos(self) -> list[str]:
        return sorted({q.asked.ticket_no for q in self.questions if q.asked.ticket_no})

    def phrasings(self, limit: int | None = None) -> list[str]:
        """The distinct questions, masked, the representative first."""
        seen: list[str] = []
        for q in [self.representative, *self.questions]:
            text = mask_numbers(" ".join(q.text.split()))
            if text and text not in seen:
                seen.append(text)
            if limit is not None and len(seen) >= limit:
                break
        return seen


def group(questions: list[Question], vectors: QuestionVectors, distance: float) -> list[Group]:
    """The questions grouped by meaning, largest groups first (then the most recent)."""
    texts = sorted({q.text.strip() for q in questions})
    if not texts:
        return []
    vecs = vectors.encode(texts)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = vecs / np.where(norms == 0, 1.0, norms)
    label_of = dict(zip(texts, cluster(vecs, distance)))
    row_of = {t: i for i, t in enumerate(texts)}
    members: dict[int, list[Question]] = {}
    for q in questions:
        members.setdefault(label_of[q.text.strip()], []).append(q)
    groups = []
    for qs in members.values():
        rows = sorted({row_of[q.text.strip()] for q in qs})
        sims = vecs[rows] @ vecs[rows].T
        weights = np.array([sum(1 for q in qs if row_of[q.text.strip()] == r) for r in rows])
        centrality = (sims * weights).sum(axis=1) / weights.sum()
        best = rows[int(np.argmax(centrality))]
        rep = next(q for q in qs if row_of[q.text.strip()] == best)
        qs.sort(key=lambda q: (q.asked.received_at, q.asked.inbound_id), reverse=True)
        groups.append(Group(qs, rep, float(centrality.max())))
    groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return groups


class Responder(Protocol):
    def respond(self, text: str) -> Outcome: ...


def near_entries(assistant: Responder, text: str, k: int = 3) -> list[NearEntry]:
    """The entries the assistant finds for ``text`` today, most answerable first."""
    outcome = assistant.respond(text[:MAX_TEXT_CHARS])
    return [NearEntry(c.id, c.title, c.category, c.answerability) for c in outcome.candidates[:k]]
