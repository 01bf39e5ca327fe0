"""Fixtures of the tuning tests: a migrated SQLite database of their own, and the shared
seed-KB assistant (hashing embedder; read-only here)."""
from __future__ import annotations

import pytest

from knowledge.db import make_engine, migrate


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tuning.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seed_assistant(console_kb):
    """The assistant on the seed knowledge base; tests must not change it (nor its thresholds)."""
    assistant, _db = console_kb
    return assistant
