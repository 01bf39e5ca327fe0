"""Text embedders: the prepared sentence-transformers model, or a small deterministic
hashing embedder for plumbing tests."""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.settings import EMBEDDED_MODEL, IndexSettings
from knowledge.settings import StorageSettings

HASHING = "hashing"


class EmbedderError(RuntimeError):
    """The configured embedding model cannot be loaded."""


class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def warm_up(self) -> None:
        """Load the model (a constructor only records what to load)."""

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


class HashingEmbedder:
    """Character 1-2-gram feature hashing, L2-normalised: deterministic and instant.

    It has no semantics beyond shared characters; only for tests of plumbing.
    """

    def __init__(self, dim: int = 256) -> None:
        self.name, self._dim = HASHING, dim

    @property
    def dim(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        pass  # nothing to load

    def _one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text if not c.isspace()]
        for gram in chars + [a + b for a, b in zip(chars, chars[1:])]:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += 1.0 if (h >> 63) else -1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: list[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = self.encode_queries(texts)
        if progress:
            progress(len(texts))
        return out


class SentenceTransformerEmbedder:
    """Any sentence-transformers folder or name, loaded offline. E5-style models get their
    ``query: ``/``passage: `` prompts from the folder's configuration."""

    def __init__(self, name_or_path: str, batch_size: int = 32, threads: int = 0,
                 name: str | None = None) -> None:
        self.path = name_or_path
        self.name = name or name_or_path  # the identity recorded in index manifests
        self.batch_size, self.threads = batch_size, threads
        self._model: Any = None
        self._dim = 0
        self._query_prompt: str | None = None
        self._passage_prompt: str | None = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        except Exception as exc:  # any loader failure means the same to us
            raise EmbedderError(f"cannot load embedding model {self.path!r}: {exc}") from exc
        dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dim = int(dim_of() or 0)
        prompts = model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None
        self._model = model

    @property
    def model(self) -> Any:
        if self._model is None:
            raise EmbedderError(f"embedding model {self.name!r} is not loaded: call warm_up()")
        return self._model

    @property
    def dim(self) -> int:
        self.model  # noqa: B018 - raises until loaded
        return self._dim

    def _encode(self, texts: list[str], prompt: str | None) -> np.ndarray:
        return self.model.encode(texts, prompt_name=prompt, batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def encode_passages(self, texts: list[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        # Sort by length so each batch pads little; restore the order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for start in range(0, len(order), step):
            idx = order[start:start + step]
            out[idx] = self._encode([texts[i] for i in idx], self._passage_prompt)
            if progress:
                progress(len(idx))
        return out


def model_slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:80] or "model"


def embedded_model_dir(storage: StorageSettings) -> Path:
    return storage.model_dir / "multilingual-e5-small"


def load_embedder(settings: IndexSettings, storage: StorageSettings,
                  progress: Callable[[str], None] = print) -> Embedder:
    """The configured embedder, not yet warmed up; the embedded default is prepared (converted
    once into the data dir) on first use."""
    name = settings.embed_model
    if name == HASHING:
        return HashingEmbedder()
    if name == EMBEDDED_MODEL:
        from index.model.prepare import is_prepared, prepare_model

        folder = embedded_model_dir(storage)
        if not is_prepared(folder):
            progress("首次使用：正在准备内置向量模型（约半分钟）…")
            prepare_model(folder, progress=progress)
        return SentenceTransformerEmbedder(str(folder), settings.embed_batch_size,
                                           settings.embed_threads, name=EMBEDDED_MODEL)
    return SentenceTransformerEmbedder(name, settings.embed_batch_size, settings.embed_threads)
