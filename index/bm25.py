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


class BM25Index:
    def __init__(self, vocab: dict[str, int], idf: np.ndarray, weights: sparse.csc_matrix) -> None:
        self.vocab, self.idf, self.weights = vocab, idf, weights

    @property
    def n_docs(self) -> int:
        return self.weights.shape[0]

    @classmethod
    def build(cls, docs: list[list[str]]) -> BM25Index:
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        for row, tokens in enumerate(docs):
            for term, count in Counter(tokens).items():
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(count)
        n = max(len(docs), 1)
        tf = np.array(tfs, dtype=np.float32)
        rows_a = np.array(rows, dtype=np.int64)
        avgdl = float(lengths.mean()) if len(docs) else 1.0
        norm = K1 * (1 - B + B * lengths[rows_a] / max(avgdl, 1e-6)) if len(tfs) else tf
        weight = tf * (K1 + 1) / (tf + norm)
        matrix = sparse.csc_matrix((weight, (rows_a, np.array(cols, dtype=np.int64))),
                                   shape=(len(docs), len(vocab)), dtype=np.float32)
        df = np.diff(matrix.indptr).astype(np.float32)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return cls(vocab, idf, matrix)

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
        (folder / "bm25_shape.json").write_text(json.dumps(list(m.shape)))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        vocab = json.loads((folder / FILES[0]).read_text(encoding="utf-8"))
        idf = np.load(folder / FILES[1], allow_pickle=False)
        data, indices, indptr = (np.load(folder / f, allow_pickle=False) for f in FILES[2:])
        shape = tuple(json.loads((folder / "bm25_shape.json").read_text()))
        matrix = sparse.csc_matrix((data, indices, indptr), shape=shape)
        matrix.sort_indices()  # answerability looks documents up by binary search per column
        return cls(vocab, idf, matrix)
