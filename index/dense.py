"""Dense search over passage embeddings in FAISS; an entry scores its best passage."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FILES = ("dense.faiss", "dense_rows.npy")


class DenseIndex:
    def __init__(self, index: faiss.Index, row_doc: np.ndarray) -> None:
        self.index, self.row_doc = index, row_doc  # row_doc: passage row -> document position
        # Passage rows grouped by document: document d's rows are _order[_starts[d]:_starts[d + 1]].
        self._order = np.argsort(row_doc, kind="stable")
        self._starts = np.searchsorted(row_doc[self._order], np.arange(int(row_doc.max(initial=-1)) + 2))

    @classmethod
    def build(cls, vectors: np.ndarray, row_doc: np.ndarray) -> DenseIndex:
        # Exact inner product: at ~10^4 passages a flat index answers in a few ms.
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, row_doc.astype(np.int64))

    def replaced(self, keep: np.ndarray, vectors: np.ndarray, new_row_doc: np.ndarray) -> DenseIndex:
        """A new index without the passages of documents where ``keep`` is false, the
        remaining documents renumbered in order, and ``vectors`` appended (``new_row_doc``:
        their document positions, counted after the kept documents).  This index is not
        changed: queries running on it go on undisturbed."""
        index = faiss.clone_index(self.index)
        drop = np.flatnonzero(~keep[self.row_doc]).astype(np.int64)
        if drop.size:
            index.remove_ids(faiss.IDSelectorBatch(drop))  # a flat index keeps the order
        renumber = np.cumsum(keep) - 1
        row_doc = renumber[np.delete(self.row_doc, drop)]
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return DenseIndex(index, np.concatenate([row_doc, new_row_doc]).astype(np.int64))

    @property
    def dim(self) -> int:
        return self.index.d

    def search(self, query: np.ndarray, k: int, n_docs: int) -> np.ndarray:
        """Per-document best cosine (−1 where no passage made the top ``k`` rows)."""
        best = np.full(n_docs, -1.0, dtype=np.float32)
        if self.index.ntotal == 0:
            return best
        scores, rows = self.index.search(query.reshape(1, -1).astype(np.float32), min(k, self.index.ntotal))
        valid = rows[0] >= 0
        np.maximum.at(best, self.row_doc[rows[0][valid]], scores[0][valid])
        return best

    def similarity(self, query: np.ndarray, doc: int) -> float:
        """The exact best cosine of document ``doc``'s passages (−1 without any): a candidate
        found by the lexical side alone has no score from ``search``."""
        if not 0 <= doc < len(self._starts) - 1:
            return -1.0
        rows = self._order[self._starts[doc]:self._starts[doc + 1]]
        if not rows.size:
            return -1.0
        return float((self.index.reconstruct_batch(rows) @ query.astype(np.float32)).max())

    def save(self, folder: Path) -> None:
        faiss.write_index(self.index, str(folder / FILES[0]))
        np.save(folder / FILES[1], self.row_doc)

    @classmethod
    def load(cls, folder: Path) -> DenseIndex:
        return cls(faiss.read_index(str(folder / FILES[0])), np.load(folder / FILES[1], allow_pickle=False))
