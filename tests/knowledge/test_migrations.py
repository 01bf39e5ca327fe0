"""The Alembic migrations and the ORM models describe the same schema."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from knowledge.db import Base, import_models, make_engine, migrate


def test_autogenerate_against_the_models_finds_nothing_to_migrate(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fazhi.db'}")
    migrate(engine)
    import_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.postgres
def test_the_models_match_the_migrations_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    migrate(engine)
    import_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
