"""Build the index from the database, and keep it current.

Published entries only. Passage vectors come from the content-hash cache where they
can, so a rebuild after an edit embeds just the changed passages.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.documents import document_for
from index.embedder import Embedder, model_slug
from index.expansion import article_key, citing_questions
from index.retriever import DOCS_FILE, DocMeta, LoadedIndex
from index.segment import Segmenter
from index.storage import IndexCorrupt, IndexMissing, Manifest, new_build_dir, publish
from index.vector_cache import VectorCache, text_hash
from knowledge.store import KnowledgeStore


def _embed(passages: list[str], embedder: Embedder, cache_path: Path, show_progress: bool) -> np.ndarray:
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
        if not hashes:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([known[h] for h in hashes]).astype(np.float32)
    finally:
        cache.close()


def build_index(store: KnowledgeStore, embedder: Embedder, segmenter: Segmenter, index_dir: Path,
                cache_dir: Path, show_progress: bool = True) -> Manifest:
    revision = store.revision()
    docs: list[DocMeta] = []
    lexical: list[list[str]] = []
    passages: list[str] = []
    row_doc: list[int] = []
    entries = list(store.iter_published())
    asked = citing_questions(entries)
    for entry in tqdm(entries, desc="分词", unit="条", file=sys.stderr, disable=not show_progress):
        key = article_key(entry)
        doc = document_for(entry, asked.get(key, []) if key else [])
        position = len(docs)
        docs.append(DocMeta(doc.entry_id, doc.kind, doc.category, doc.external_id, doc.title))
        lexical.append(segmenter.tokens(doc.lexical_text))
        passages.extend(doc.passages)
        row_doc.extend([position] * len(doc.passages))
    vectors = _embed(passages, embedder, cache_dir / f"vectors-{model_slug(embedder.name)}.sqlite",
                     show_progress)
    folder = new_build_dir(index_dir)
    BM25Index.build(lexical).save(folder)
    DenseIndex.build(vectors, np.array(row_doc, dtype=np.int64)).save(folder)
    (folder / DOCS_FILE).write_text(json.dumps([list(asdict(d).values()) for d in docs],
                                               ensure_ascii=False), encoding="utf-8")
    manifest = Manifest(model=embedder.name, dimension=embedder.dim, entry_count=len(docs),
                        passage_count=len(passages), kb_revision=revision)
    publish(index_dir, folder, manifest)
    return manifest


def ensure_index(store: KnowledgeStore, embedder: Embedder, segmenter: Segmenter, index_dir: Path,
                 cache_dir: Path, progress: Callable[[str], None] = print,
                 show_progress: bool = True) -> LoadedIndex:
    """Load the live index, rebuilding it when missing, corrupt, stale or for another model."""
    try:
        index = LoadedIndex.load(index_dir)
        if index.manifest.is_current(embedder.name, embedder.dim, store.revision()):
            return index
        progress("知识库或模型已变化，正在重建索引 …")
    except IndexMissing:
        progress("尚无索引，正在建立 …")
    except (IndexCorrupt, OSError, ValueError, RuntimeError) as exc:
        progress(f"索引损坏（{exc}），正在从数据库重建 …")
    build_index(store, embedder, segmenter, index_dir, cache_dir, show_progress)
    return LoadedIndex.load(index_dir)
