"""The Alembic migrations and the ORM models describe the same schema."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from knowledge.db import Base, import_models, make_engine, migrate


def _autogenerate_diff(url: str) -> list:
    """What Alembic's autogenerate would add after running every migration on ``url``."""
    engine = make_engine(url)
    migrate(engine)
    import_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    return diff


def test_autogenerate_against_the_models_finds_nothing_to_migrate(tmp_path):
    assert _autogenerate_diff(f"sqlite:///{tmp_path / 'fazhi.db'}") == []


@pytest.mark.postgres
def test_the_models_match_the_migrations_on_postgresql(pg_url):
    assert _autogenerate_diff(pg_url) == []


def test_the_versions_migration_gives_existing_entries_a_first_version(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from knowledge.db import MIGRATIONS_DIR
    from knowledge.store import KnowledgeStore
    from knowledge.versions import history

    engine = make_engine(f"sqlite:///{tmp_path / 'fazhi.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004_lawyer_queue")
        conn.execute(text(
            "INSERT INTO kb_entries (kind, external_id, title, question, answer, alt_questions, category,"
            " citations, tags, status, content_hash, created_at, updated_at) VALUES ('faq', 'old', '问', '问',"
            " '答。', '[\"别问\"]', '其他', '[{\"law\": \"民法典\", \"article\": 1}]', '[]', 'published', 'h',"
            " '2024-01-01 00:00:00', '2024-01-01 00:00:00')"))
    migrate(engine)
    store = KnowledgeStore(engine)
    entry = store.find("faq", "old")
    with store.session() as s:
        [first] = history(s, entry.id)
    engine.dispose()
    assert entry.current_version == 1
    assert (first.version, first.action, first.status) == (1, "baseline", "published")
    assert first.content["alt_questions"] == ["别问"]
    assert first.content["citations"] == [{"law": "民法典", "article": 1}]
