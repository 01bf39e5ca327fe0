"""Okapi BM25 over jieba tokens, stored as plain arrays (no pickle).

Document-side term weights are precomputed into a sparse matrix, so a query is one
column slice and a dot product. Scores are also given normalised by the query's best
possible score, which makes them comparable across queries.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

K1, B = 1.2, 0.75
FILES = ("bm25_vocab.json", "bm25_idf.npy", "bm25_data.npy", "bm25_indices.npy", "bm25_indptr.npy")


def _row_weights(docs: list[list[str]], vocab: dict[str, int], avgdl: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, weights) of the documents' term weights; new terms join ``vocab``."""
    rows, cols, tfs, lens = [], [], [], []
    for row, tokens in enumerate(docs):
        for term, count in Counter(tokens).items():
            rows.append(row)
            cols.append(vocab.setdefault(term, len(vocab)))
            tfs.append(count)
            lens.append(len(tokens))
    tf = np.array(tfs, dtype=np.float32)
    norm = K1 * (1 - B + B * np.array(lens, dtype=np.float32) / max(avgdl, 1e-6))
    return (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
            (tf * (K1 + 1) / (tf + norm)).astype(np.float32))


def _idf(matrix: sparse.csc_matrix) -> np.ndarray:
    n = max(matrix.shape[0], 1)
    df = np.diff(matrix.indptr).astype(np.float32)
    return np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)


class BM25Index:
    def __init__(self, vocab: dict[str, int], idf: np.ndarray, weights: sparse.csc_matrix,
                 avgdl: float = 1.0) -> None:
        self.vocab, self.idf, self.weights, self.avgdl = vocab, idf, weights, avgdl

    @property
    def n_docs(self) -> int:
        return self.weights.shape[0]

    @classmethod
    def build(cls, docs: list[list[str]]) -> BM25Index:
        vocab: dict[str, int] = {}
        avgdl = float(np.mean([len(d) for d in docs])) if docs else 1.0
        rows, cols, weight = _row_weights(docs, vocab, avgdl)
        matrix = sparse.csc_matrix((weight, (rows, cols)), shape=(len(docs), len(vocab)),
                                   dtype=np.float32)
        matrix.sort_indices()
        return cls(vocab, _idf(matrix), matrix, avgdl)

    def replaced(self, keep: np.ndarray, docs: list[list[str]]) -> BM25Index:
        """A new index: the rows where ``keep`` is true, in order, then ``docs`` appended.
        Kept rows keep their weights and new rows use the same average length, so only
        the IDF is recomputed (a full rebuild later refreshes the lengths)."""
        vocab = dict(self.vocab)
        rows, cols, weight = _row_weights(docs, vocab, self.avgdl)
        kept = self.weights.tocsr()[np.flatnonzero(keep)]
        kept.resize((kept.shape[0], len(vocab)))
        added = sparse.csr_matrix((weight, (rows, cols)), shape=(len(docs), len(vocab)),
                                  dtype=np.float32)
        matrix = sparse.vstack([kept, added], format="csc", dtype=np.float32)
        matrix.sort_indices()
        return BM25Index(vocab, _idf(matrix), matrix, self.avgdl)

    def score(self, tokens: list[str]) -> tuple[np.ndarray, float]:
        """Scores for every document and the query's best possible score."""
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32), 0.0
        counts = Counter(ids)
        cols = np.fromiter(counts.keys(), dtype=np.int64)
        q = self.idf[cols] * np.fromiter(counts.values(), dtype=np.float32)
        scores = np.asarray(self.weights[:, cols] @ q).ravel()
        return scores.astype(np.float32), float(q.sum() * (K1 + 1))

    def save(self, folder: Path) -> None:
        (folder / FILES[0]).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(folder / FILES[1], self.idf)
        m = self.weights
        for name, arr in zip(FILES[2:], (m.data, m.indices, m.indptr)):
            np.save(folder / name, arr)
        (folder / "bm25_shape.json").write_text(json.dumps({"shape": list(m.shape), "avgdl": self.avgdl}))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        vocab = json.loads((folder / FILES[0]).read_text(encoding="utf-8"))
        idf = np.load(folder / FILES[1], allow_pickle=False)
        data, indices, indptr = (np.load(folder / f, allow_pickle=False) for f in FILES[2:])
        meta = json.loads((folder / "bm25_shape.json").read_text())
        matrix = sparse.csc_matrix((data, indices, indptr), shape=tuple(meta["shape"]))
        matrix.sort_indices()  # answerability looks documents up by binary search per column
        return cls(vocab, idf, matrix, float(meta["avgdl"]))
