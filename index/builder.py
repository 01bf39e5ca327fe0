"""Build the index from the database, and keep it current.

Published entries only. Passage vectors come from the content-hash cache where they
can, so a rebuild after an edit embeds just the changed passages.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.documents import document_for
from index.embedder import Embedder, model_slug
from index.expansion import ArticleKey, article_key, citing_questions
from index.retriever import DocMeta, LoadedIndex
from index.segment import Segmenter
from index.storage import Manifest
from index.vector_cache import VectorCache, text_hash
from knowledge.models import Entry
from knowledge.store import KnowledgeStore

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _embed(passages: list[str], embedder: Embedder, cache_path: Path, show_progress: bool,
           on_progress: Progress | None = None) -> np.ndarray:
    cache = VectorCache(cache_path, embedder.dim)
    try:
        hashes = [text_hash(p) for p in passages]
        known = cache.get_many(sorted(set(hashes)))
        todo = sorted({h: p for h, p in zip(hashes, passages) if h not in known}.items())
        if todo:
            with tqdm(total=len(todo), desc="向量化", unit="段", file=sys.stderr,
                      disable=not show_progress) as bar:
                for start in range(0, len(todo), 512):
                    chunk = todo[start:start + 512]
                    vecs = embedder.encode_passages([p for _, p in chunk], progress=bar.update)
                    fresh = {h: v for (h, _), v in zip(chunk, vecs)}
                    cache.put_many(fresh)  # saved as we go: an interrupted build keeps its work
                    known.update(fresh)
                    if on_progress is not None:
                        on_progress("向量化", start + len(chunk), len(todo))
        if not hashes:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([known[h] for h in hashes]).astype(np.float32)
    finally:
        cache.close()


@dataclass
class Indexed:
    """Entries made ready for the index: metadata, BM25 tokens, passage vectors and each
    vector's position among ``docs``."""

    docs: list[DocMeta]
    tokens: list[list[str]]
    vectors: np.ndarray
    row_doc: np.ndarray


def index_entries(entries: list[Entry], asked: dict[ArticleKey, list[str]], embedder: Embedder,
                  segmenter: Segmenter, cache_dir: Path, show_progress: bool = False,
                  on_progress: Progress | None = None) -> Indexed:
    docs: list[DocMeta] = []
    lexical: list[list[str]] = []
    passages: list[str] = []
    row_doc: list[int] = []
    for n, entry in enumerate(tqdm(entries, desc="分词", unit="条", file=sys.stderr,
                                   disable=not show_progress), 1):
        key = article_key(entry)
        doc = document_for(entry, asked.get(key, []) if key else [])
        position = len(docs)
        docs.append(DocMeta(doc.entry_id, doc.kind, doc.category, doc.external_id, doc.title,
                            doc.content_hash))
        lexical.append(segmenter.tokens(doc.lexical_text))
        passages.extend(doc.passages)
        row_doc.extend([position] * len(doc.passages))
        if on_progress is not None and (n % 200 == 0 or n == len(entries)):
            on_progress("分词", n, len(entries))
    vectors = _embed(passages, embedder, cache_dir / f"vectors-{model_slug(embedder.name)}.sqlite",
                     show_progress, on_progress)
    return Indexed(docs, lexical, vectors, np.array(row_doc, dtype=np.int64))


def build_index(store: KnowledgeStore, embedder: Embedder, segmenter: Segmenter, index_dir: Path,
                cache_dir: Path, show_progress: bool = True,
                on_progress: Progress | None = None) -> Manifest:
    """A full build from the database, published as the live index on disk."""
    revision = store.revision()
    entries = list(store.iter_published())
    built = index_entries(entries, citing_questions(entries), embedder, segmenter, cache_dir,
                          show_progress, on_progress)
    manifest = Manifest(model=embedder.name, dimension=embedder.dim, entry_count=len(built.docs),
                        passage_count=len(built.row_doc), kb_revision=revision)
    index = LoadedIndex(index_dir, manifest, built.docs, BM25Index.build(built.tokens),
                        DenseIndex.build(built.vectors, built.row_doc))
    return index.save(index_dir).manifest
