"""Passage vectors cached by content hash, one SQLite file per model, so a rebuild
re-embeds only passages whose text changed."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    def __init__(self, path: Path, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for h, blob in self._db.execute(f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})", chunk):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.size == self.dim:
                    found[h] = vec
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (hash, vec) VALUES (?, ?)",
                                 [(h, v.astype(np.float32).tobytes()) for h, v in items.items()])

    def close(self) -> None:
        self._db.close()
