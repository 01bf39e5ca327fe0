"""Hybrid retrieval: BM25 and dense scores for every published entry, fused.

Fusion is relative score fusion: each signal is scaled by the query's own best and a
reference score deep in its ranking, then averaged. Unlike reciprocal rank fusion it
keeps how far ahead the leader is, which the confidence model needs.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np

from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedder import Embedder
from index.normalize import normalize
from index.segment import Segmenter
from index.storage import Manifest, current_dir, new_build_dir, publish, read_manifest

DOCS_FILE = "docs.json"
DENSE_ROWS = 200  # passage rows fetched from FAISS per query
POOL = 50  # candidates taken from each signal before fusion
REF_RANK = POOL - 1  # scale against the weakest candidate in the pool (measured best on eval_article_dev)
DENSE_WEIGHT = 0.5
# Embedding cost grows with length; the head of a long message carries its topic.
DENSE_QUERY_CHARS = 256


class Mode(StrEnum):
    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class DocMeta:
    entry_id: int
    kind: str
    category: str
    external_id: str | None
    title: str
    content_hash: str = ""  # of the entry as indexed: what a sync compares


@dataclass(frozen=True)
class Hit:
    doc: DocMeta
    score: float  # the ranking score for the mode
    lexical: float  # BM25 / the query's best possible BM25, in [0, 1]
    dense: float  # cosine of the best passage (−1: not among the nearest passages)
    lexical_rank: int | None
    dense_rank: int | None


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    normalized_query: str
    tokens: list[str]
    mode: Mode
    query_vector: np.ndarray | None = None  # the one query embedding, for reuse
    # Every document's normalised BM25 and dense score: another kind is ranked from these.
    lexical_scores: np.ndarray | None = None
    dense_scores: np.ndarray | None = None

    @property
    def nearest_dense(self) -> float:
        """The cosine of the knowledge base's nearest passage (−1 without a dense search),
        whichever entry the fused ranking puts first."""
        if self.dense_scores is None or not self.dense_scores.size:
            return -1.0
        return float(self.dense_scores.max())


@dataclass
class LoadedIndex:
    folder: Path
    manifest: Manifest
    docs: list[DocMeta]
    bm25: BM25Index
    dense: DenseIndex

    @classmethod
    def load(cls, index_dir: Path, verify: bool = True) -> LoadedIndex:
        folder = current_dir(index_dir)
        manifest = read_manifest(folder, verify=verify)
        docs = [DocMeta(*row) for row in json.loads((folder / DOCS_FILE).read_text(encoding="utf-8"))]
        return cls(folder, manifest, docs, BM25Index.load(folder), DenseIndex.load(folder))

    def save(self, index_dir: Path) -> LoadedIndex:
        """Write this index as a new build and make it the live one on disk."""
        folder = new_build_dir(index_dir)
        self.bm25.save(folder)
        self.dense.save(folder)
        (folder / DOCS_FILE).write_text(json.dumps([list(asdict(d).values()) for d in self.docs],
                                                   ensure_ascii=False), encoding="utf-8")
        manifest = replace(self.manifest, entry_count=len(self.docs),
                           passage_count=len(self.dense.row_doc), files={})
        publish(index_dir, folder, manifest)
        return replace(self, folder=folder, manifest=manifest)

    def replaced(self, remove: set[int], docs: list[DocMeta], tokens: list[list[str]],
                 vectors: np.ndarray, row_doc: np.ndarray, kb_revision: int) -> LoadedIndex:
        """A new index without the entries ``remove`` and with ``docs`` appended (their BM25
        tokens, passage vectors and each vector's position among ``docs``).  This one is
        left as it is, so the queries running on it are not disturbed."""
        keep = np.array([d.entry_id not in remove for d in self.docs], dtype=bool)
        kept = [d for d, k in zip(self.docs, keep) if k]
        bm25 = self.bm25.replaced(keep, tokens)
        dense = self.dense.replaced(keep, vectors, row_doc.astype(np.int64) + len(kept))
        manifest = replace(self.manifest, kb_revision=kb_revision, entry_count=len(kept) + len(docs),
                           passage_count=len(dense.row_doc))
        return LoadedIndex(self.folder, manifest, kept + docs, bm25, dense)


def _ranks(scores: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the best ``limit`` scores among ``mask``, best first."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return idx
    take = min(limit, idx.size)
    part = idx[np.argpartition(-scores[idx], take - 1)[:take]]
    return part[np.argsort(-scores[part], kind="stable")]


def _relative(scores: np.ndarray, order: np.ndarray, floor: float) -> np.ndarray:
    """Scale so the query's best is 1 and the reference-rank score is 0 (clipped)."""
    if order.size == 0:
        return np.zeros_like(scores)
    top = scores[order[0]]
    ref = scores[order[min(REF_RANK, order.size - 1)]] if order.size > 1 else floor
    ref = max(ref, floor)
    span = top - ref
    if span <= 1e-6:
        return np.where(scores >= top - 1e-6, 1.0, 0.0).astype(np.float32)
    return np.clip((scores - ref) / span, 0.0, 1.0).astype(np.float32)


class Retriever:
    def __init__(self, index: LoadedIndex, embedder: Embedder, segmenter: Segmenter,
                 max_query_chars: int = 500) -> None:
        self.index, self.embedder, self.segmenter = index, embedder, segmenter
        self.max_query_chars = max_query_chars
        self._kinds = np.array([d.kind for d in index.docs])
        self._categories = np.array([d.category for d in index.docs])
        self._rows = {d.entry_id: i for i, d in enumerate(index.docs)}

    def row_of(self, entry_id: int) -> int | None:
        """The entry's row in the index (its BM25 document), None when not indexed."""
        return self._rows.get(entry_id)

    def _mask(self, kinds: list[str] | None, category: str | None) -> np.ndarray:
        mask = np.ones(len(self.index.docs), dtype=bool)
        if kinds:
            mask &= np.isin(self._kinds, kinds)
        if category:
            mask &= self._categories == category
        return mask

    def search(self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, kinds: list[str] | None = None,
               category: str | None = None) -> SearchResult:
        text = normalize(query, self.max_query_chars)
        tokens = self.segmenter.tokens(text)
        raw, best_possible = self.index.bm25.score(tokens)
        lexical = raw / best_possible if best_possible else raw
        qvec = None
        if mode is Mode.BM25 or not text:
            dense = np.full(len(self.index.docs), -1.0, dtype=np.float32)
        else:
            qvec = self.embedder.encode_queries([text[:DENSE_QUERY_CHARS]])[0]
            dense = self.index.dense.search(qvec, DENSE_ROWS, len(self.index.docs))
        scored = SearchResult([], text, tokens, mode, qvec, lexical, dense)
        return self.rerank(scored, k, kinds, category)

    def rerank(self, result: SearchResult, k: int = 5, kinds: list[str] | None = None,
               category: str | None = None) -> SearchResult:
        """The same query ranked again over other kinds or a category, from the scores
        ``result`` carries: no second segmentation, BM25 pass or embedding."""
        if result.lexical_scores is None or result.dense_scores is None:
            raise ValueError("rerank needs a result of Retriever.search")
        lexical, dense, mode = result.lexical_scores, result.dense_scores, result.mode
        mask = self._mask(kinds, category)
        lex_order = _ranks(lexical, mask & (lexical > 0), POOL)
        dense_order = _ranks(dense, mask & (dense > -1), POOL)
        if mode is Mode.BM25:
            score, order = lexical, lex_order
        elif mode is Mode.DENSE:
            score, order = dense, dense_order
        else:
            score = (DENSE_WEIGHT * _relative(dense, dense_order, -1.0)
                     + (1 - DENSE_WEIGHT) * _relative(lexical, lex_order, 0.0))
            order = _ranks(score, np.isin(np.arange(len(self.index.docs)), np.union1d(lex_order, dense_order)),
                           POOL)
        lex_rank = {int(d): r for r, d in enumerate(lex_order, 1)}
        dense_rank = {int(d): r for r, d in enumerate(dense_order, 1)}
        hits = [Hit(self.index.docs[d], float(score[d]), float(lexical[d]), float(dense[d]),
                    lex_rank.get(int(d)), dense_rank.get(int(d))) for d in order[:k]]
        return replace(result, hits=hits)
