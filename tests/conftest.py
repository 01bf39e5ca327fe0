"""Shared fixtures: real SQLite in temp dirs, the real prepared model where semantics matter."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def shared_file(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"../shared/data/{name} is not present")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh data dir with the fast deterministic embedder (for plumbing tests)."""
    return Settings(data_dir=tmp_path / "data", embed_model="hashing")


@pytest.fixture
def store(settings: Settings):
    from assistant.service import open_store

    return open_store(settings)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose embedded model is prepared once per test session."""
    root = tmp_path_factory.mktemp("e5")
    from index.embedder import embedded_model_dir
    from index.model_prepare import prepare_model

    prepare_model(embedded_model_dir(Settings(data_dir=root)), progress=lambda _m: None)
    return root


@pytest.fixture(scope="session")
def e5_assistant(model_root: Path):
    """The assistant on the seed knowledge base with the real embedded model."""
    from assistant.service import open_assistant

    return open_assistant(Settings(data_dir=model_root), progress=lambda _m: None, show_progress=False)


PG_ADMIN_URL = os.environ.get("FAZHI_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fazhi_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
