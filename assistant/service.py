"""The assistant: one question in, one decision with its reply and evidence out."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant import followup, intents, reply, scope
from assistant.answerability import RERANK, candidate_features
from assistant.confidence import CalibrationBook
from assistant.outcome import Candidate, Decision, Outcome
from assistant.policy import Signals, Thresholds, decide, suggestions
from assistant.references import find_references
from assistant.settings import AssistantSettings
from index.embedder import Embedder, load_embedder
from index.live import FixedIndex, LiveIndex, SyncResult
from index.normalize import normalize
from index.retriever import Hit, Mode, Retriever, SearchResult
from index.segment import Segmenter
from index.settings import IndexSettings
from knowledge.db import make_engine, migrate
from knowledge.seed import load_seed
from knowledge.settings import StorageSettings
from knowledge.store import EntryNotFound, KnowledgeStore
from knowledge.taxonomy import Status

CANDIDATES = 10


class AssistantConfig(Protocol):
    """The settings ``open_assistant`` needs: storage, retrieval and the assistant's own."""

    @property
    def storage(self) -> StorageSettings: ...

    @property
    def index(self) -> IndexSettings: ...

    @property
    def assistant(self) -> AssistantSettings: ...


def _candidate(hit: Hit, answerability: float | None = None) -> Candidate:
    d = hit.doc
    return Candidate(d.entry_id, d.external_id, d.kind, d.title, d.category, round(hit.score, 4),
                     round(hit.lexical, 4), round(hit.dense, 4), hit.lexical_rank, hit.dense_rank,
                     None if answerability is None else round(answerability, 4))


# Residents describe their situation at length; small talk is short (median 6 characters in
# eval_chitchat_dev, 28 for real legal questions). A long message needs less of a margin.
LONG_MESSAGE = 20
LONG_SLACK = 0.04


@dataclass
class LegalCheck:
    """Is this a legal matter? Legal vocabulary decides; without it, the message must sit
    closer to the knowledge base than to our small-talk examples by a calibrated margin
    (by less when it is long)."""

    smalltalk: np.ndarray  # embeddings of assistant/data/smalltalk.txt
    margin: float

    def gap(self, kb_dense: float, query_vec: np.ndarray) -> float:
        """How much closer the message sits to the knowledge base than to small talk."""
        chat = float((self.smalltalk @ query_vec).max()) if len(self.smalltalk) else -1.0
        return kb_dense - chat

    def is_legal(self, text: str, mapped_terms: list[str], kb_dense: float, query_vec: np.ndarray | None) -> bool:
        if intents.has_legal_terms(text, mapped_terms):
            return True
        if query_vec is None:
            return False
        margin = self.margin - (LONG_SLACK if len(text) >= LONG_MESSAGE else 0.0)
        return self.gap(kb_dense, query_vec) >= margin


class Assistant:
    """Answers questions once ``warm_up()`` has embedded the small-talk examples."""

    def __init__(self, settings: AssistantSettings, store: KnowledgeStore,
                 index: LiveIndex | FixedIndex, calibration: CalibrationBook) -> None:
        self.settings, self.store, self.index = settings, store, index
        self.calibration = calibration
        self.embedder: Embedder = index.retriever.embedder
        self.thresholds = Thresholds(settings.answer_threshold, settings.suggest_threshold,
                                     settings.suggest_floor)
        self._legal: LegalCheck | None = None

    def warm_up(self) -> Assistant:
        if self._legal is None:
            margin = self.calibration.margin(self.embedder.name, self.settings.legal_threshold - 0.5)
            examples = self.embedder.encode_passages(intents.smalltalk_examples())
            self._legal = LegalCheck(examples, margin)
        return self

    @property
    def retriever(self) -> Retriever:
        """The current search snapshot (a query takes it once and keeps it)."""
        return self.index.retriever

    def refresh(self) -> SyncResult:
        """Bring search up to date with the knowledge base (only what changed)."""
        return self.index.sync()

    def preview(self, publish: Iterable[int] = (), remove: Iterable[int] = ()) -> Assistant:
        """This assistant as it would answer with ``publish`` published (their current
        content) and ``remove`` unpublished; the live search is untouched."""
        if not isinstance(self.index, LiveIndex):
            raise TypeError("preview needs a live index")
        other = copy.copy(self)
        other.index = FixedIndex(self.index.preview(publish, remove))
        return other

    @property
    def legal(self) -> LegalCheck:
        if self._legal is None:
            raise RuntimeError("Assistant.warm_up() has not been called")
        return self._legal

    def search(self, text: str, mode: Mode = Mode.HYBRID, k: int = CANDIDATES,
               kinds: list[str] | None = None, category: str | None = None,
               retriever: Retriever | None = None) -> SearchResult:
        return (retriever or self.retriever).search(text, k=k, mode=mode, kinds=kinds, category=category)

    def answerability(self, result: SearchResult, retriever: Retriever | None = None) -> list[float]:
        """P(candidate answers the question) for each of the first ``RERANK`` hits
        (``retriever``: the snapshot ``result`` came from)."""
        curve = self.calibration.get(self.embedder.name, result.mode.value)
        return [curve.probability(f) for f in candidate_features(result, retriever or self.retriever)]

    def ranked(self, result: SearchResult, retriever: Retriever | None = None) -> list[Candidate]:
        """The candidates, the first ``RERANK`` re-ordered by answerability."""
        probs = self.answerability(result, retriever)
        head = sorted(zip(result.hits[:RERANK], probs), key=lambda hp: -hp[1])
        return [_candidate(h, p) for h, p in head] + [_candidate(h) for h in result.hits[RERANK:]]

    def respond(self, text: str, history: list[str] | None = None, mode: Mode = Mode.HYBRID,
                kinds: list[str] | None = None, category: str | None = None) -> Outcome:
        started = time.perf_counter()
        r = self.retriever  # one snapshot for the whole question, whatever a sync does meanwhile
        clean = normalize(text, self.settings.max_query_chars)
        mapped = r.segmenter.legal_terms(clean)
        own_topic = intents.has_legal_terms(clean, mapped)
        query = followup.rewrite(clean, history, own_topic)
        if intents.is_emergency(clean) or intents.wants_person(clean):
            if intents.wants_person(clean) and history:
                query = f"{history[-1].strip()} {clean}"  # "转人工" refers to the last question
            result = SearchResult([], query, [], mode)
            if query.strip():
                result = self.search(query, mode, kinds=kinds, category=category, retriever=r)  # for the lawyer
        else:
            result = self.search(query, mode, kinds=kinds, category=category, retriever=r)
        candidates = self.ranked(result, r)
        urgent = intents.is_emergency(clean) or intents.wants_person(clean)
        confidence = (candidates[0].answerability or 0.0) if candidates and not urgent else 0.0
        area = scope.area_of(query)
        qvec = result.query_vector if query == clean else None
        signals = Signals(
            emergency=intents.is_emergency(clean), wants_person=intents.wants_person(clean),
            legal=bool(clean) and (query != clean or self.legal.is_legal(clean, mapped, result.nearest_dense, qvec)),
            confidence=confidence,
            out_of_scope=area is not None and bool(candidates) and candidates[0].category != area,
            thanks=intents.is_thanks(clean),
        )
        decision, why = decide(signals, candidates, self.thresholds)
        outcome = self._outcome(decision, why, confidence, candidates, text, query)
        if decision is Decision.ESCALATE and (why != "explicit_request" or query != clean or own_topic):
            outcome = self._with_references(outcome, result, r)  # not for a bare "转人工"
        return replace(outcome, area=area, latency_ms=round((time.perf_counter() - started) * 1000, 2))

    def _outcome(self, decision: Decision, why: str, confidence: float, candidates: list[Candidate],
                 text: str, query: str) -> Outcome:
        answered, version, choices = None, None, []
        if decision is Decision.ANSWER:
            entry = self.store.get(candidates[0].id)
            answered, version, body = entry.id, entry.current_version, reply.entry_text(entry)
        elif decision is Decision.SUGGEST:
            choices = suggestions(candidates, self.thresholds.suggest_floor)
            body = reply.suggest_text(choices)
        elif decision is Decision.ESCALATE:
            body = reply.escalate_text(why)
        elif decision is Decision.DECLINE:
            body = reply.thanks_text() if why == "thanks" else reply.decline_text()
        else:
            body = reply.emergency_text()
        return Outcome(decision=decision, confidence=round(confidence, 4), messages=reply.split_message(body),
                       candidates=candidates, query=text, normalized_query=query,
                       answered_entry_id=answered, answered_entry_version=version, suggestions=choices,
                       reason=why)

    def _with_references(self, outcome: Outcome, result: SearchResult, retriever: Retriever) -> Outcome:
        """An escalation also shows the articles (and case) found confidently, as reference."""
        refs = find_references(retriever, self.store, result)
        if not refs:
            return outcome
        body = "\n\n".join([*outcome.messages, reply.references_text(refs)])
        return replace(outcome, references=refs, messages=reply.split_message(body))

    def answer_entry(self, entry_id: int) -> Outcome:
        """The full answer for one entry, e.g. when the resident picks a suggestion."""
        entry = self.store.get(entry_id)
        if entry.status != Status.PUBLISHED:
            raise EntryNotFound(entry_id)
        cand = Candidate(entry.id, entry.external_id, entry.kind, entry.title, entry.category, 1.0)
        return Outcome(decision=Decision.ANSWER, confidence=1.0,
                       messages=reply.split_message(reply.entry_text(entry)), candidates=[cand],
                       query=entry.title, normalized_query=entry.title, answered_entry_id=entry.id,
                       answered_entry_version=entry.current_version, reason="picked")


def open_store(storage: StorageSettings) -> KnowledgeStore:
    """The knowledge store of a data dir, created and migrated on first use."""
    storage.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(storage.sqlalchemy_url)
    migrate(engine)
    return KnowledgeStore(engine)


def open_assistant(settings: AssistantConfig, progress: Callable[[str], None] = print,
                   show_progress: bool = True, store: KnowledgeStore | None = None) -> Assistant:
    """Initialise a data dir as needed (schema, seed, model, index) and load and warm up the
    assistant: this is where the heavy work happens."""
    storage = settings.storage
    store = store or open_store(storage)
    if store.count() == 0:
        progress("首次使用：正在导入内置知识库 …")
        load_seed(store)
    embedder = load_embedder(settings.index, storage, progress)
    embedder.warm_up()
    segmenter = Segmenter(storage.cache_dir).load()
    live = LiveIndex(store, embedder, segmenter, storage.index_dir, storage.cache_dir,
                     settings.assistant.max_query_chars, settings.index.index_rebuild_after)
    live.load(progress, show_progress)
    return Assistant(settings.assistant, store, live, CalibrationBook.load()).warm_up()
