"""The assistant: one question in, one decision with its reply and evidence out."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant import followup, intents, reply
from assistant.confidence import CalibrationBook, features
from assistant.outcome import Candidate, Decision, Outcome
from assistant.policy import Signals, Thresholds, close_candidates, decide
from assistant.references import find_references
from assistant.settings import AssistantSettings
from index.builder import ensure_index
from index.embedder import Embedder, load_embedder
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


def _candidate(hit: Hit) -> Candidate:
    d = hit.doc
    return Candidate(d.entry_id, d.external_id, d.kind, d.title, d.category, round(hit.score, 4),
                     round(hit.lexical, 4), round(hit.dense, 4), hit.lexical_rank, hit.dense_rank)


@dataclass
class LegalCheck:
    """Is this a legal matter? Legal vocabulary decides; without it, the message must sit
    closer to the knowledge base than to our small-talk examples by a calibrated margin."""

    smalltalk: np.ndarray  # embeddings of assistant/data/smalltalk.txt
    margin: float

    def gap(self, kb_dense: float, query_vec: np.ndarray) -> float:
        """How much closer the message sits to the knowledge base than to small talk."""
        chat = float((self.smalltalk @ query_vec).max()) if len(self.smalltalk) else -1.0
        return kb_dense - chat

    def is_legal(self, text: str, mapped_terms: list[str], kb_dense: float, query_vec: np.ndarray | None) -> bool:
        if intents.has_legal_terms(text, mapped_terms):
            return True
        return query_vec is not None and self.gap(kb_dense, query_vec) >= self.margin


class Assistant:
    """Answers questions once ``warm_up()`` has embedded the small-talk examples."""

    def __init__(self, settings: AssistantSettings, store: KnowledgeStore, retriever: Retriever,
                 calibration: CalibrationBook) -> None:
        self.settings, self.store, self.retriever = settings, store, retriever
        self.calibration = calibration
        self.embedder: Embedder = retriever.embedder
        self.thresholds = Thresholds(settings.answer_threshold, settings.suggest_threshold,
                                     settings.suggest_margin)
        self._legal: LegalCheck | None = None

    def warm_up(self) -> Assistant:
        if self._legal is None:
            margin = self.calibration.margin(self.embedder.name, self.settings.legal_threshold - 0.5)
            examples = self.embedder.encode_passages(intents.smalltalk_examples())
            self._legal = LegalCheck(examples, margin)
        return self

    @property
    def legal(self) -> LegalCheck:
        if self._legal is None:
            raise RuntimeError("Assistant.warm_up() has not been called")
        return self._legal

    def search(self, text: str, mode: Mode = Mode.HYBRID, k: int = CANDIDATES,
               kinds: list[str] | None = None, category: str | None = None) -> SearchResult:
        return self.retriever.search(text, k=k, mode=mode, kinds=kinds, category=category)

    def confidence(self, result: SearchResult) -> float:
        return self.calibration.get(self.embedder.name, result.mode.value).probability(features(result))

    def respond(self, text: str, history: list[str] | None = None, mode: Mode = Mode.HYBRID,
                kinds: list[str] | None = None, category: str | None = None) -> Outcome:
        started = time.perf_counter()
        clean = normalize(text, self.settings.max_query_chars)
        mapped = self.retriever.segmenter.legal_terms(clean)
        own_topic = intents.has_legal_terms(clean, mapped)
        query = followup.rewrite(clean, history, own_topic)
        if intents.is_emergency(clean) or intents.wants_person(clean):
            result, confidence = SearchResult([], query, [], mode), 0.0
            if intents.wants_person(clean) and history:
                query = f"{history[-1].strip()} {clean}"  # "转人工" refers to the last question
            if query.strip():
                result = self.search(query, mode, kinds=kinds, category=category)  # for the lawyer
        else:
            result = self.search(query, mode, kinds=kinds, category=category)
            confidence = self.confidence(result)
        candidates = [_candidate(h) for h in result.hits]
        top_dense = result.hits[0].dense if result.hits else -1.0
        qvec = result.query_vector if query == clean else None
        signals = Signals(
            emergency=intents.is_emergency(clean), wants_person=intents.wants_person(clean),
            legal=bool(clean) and (query != clean or self.legal.is_legal(clean, mapped, top_dense, qvec)),
            confidence=confidence,
        )
        decision, why = decide(signals, candidates, self.thresholds)
        outcome = self._outcome(decision, why, confidence, candidates, text, query)
        if decision is Decision.ESCALATE and (why != "explicit_request" or query != clean or own_topic):
            outcome = self._with_references(outcome, result)  # not for a bare "转人工"
        return replace(outcome, latency_ms=round((time.perf_counter() - started) * 1000, 2))

    def _outcome(self, decision: Decision, why: str, confidence: float, candidates: list[Candidate],
                 text: str, query: str) -> Outcome:
        answered, choices = None, []
        if decision is Decision.ANSWER:
            answered = candidates[0].id
            body = reply.entry_text(self.store.get(answered))
        elif decision is Decision.SUGGEST:
            choices = close_candidates(candidates, self.thresholds.suggest_margin)
            body = reply.suggest_text(choices)
        elif decision is Decision.ESCALATE:
            body = reply.escalate_text(why)
        elif decision is Decision.DECLINE:
            body = reply.decline_text()
        else:
            body = reply.emergency_text()
        return Outcome(decision=decision, confidence=round(confidence, 4), messages=reply.split_message(body),
                       candidates=candidates, query=text, normalized_query=query,
                       answered_entry_id=answered, suggestions=choices, reason=why)

    def _with_references(self, outcome: Outcome, result: SearchResult) -> Outcome:
        """An escalation also shows the articles (and case) found confidently, as reference."""
        refs = find_references(self.retriever, self.store, result)
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
                       reason="picked")


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
    index = ensure_index(store, embedder, segmenter, storage.index_dir, storage.cache_dir,
                         progress, show_progress)
    retriever = Retriever(index, embedder, segmenter, settings.assistant.max_query_chars)
    return Assistant(settings.assistant, store, retriever, CalibrationBook.load()).warm_up()
