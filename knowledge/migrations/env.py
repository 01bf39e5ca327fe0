"""Alembic environment: migrations always run on a connection handed in by ``migrate``.

``target_metadata`` holds every ORM model, so ``alembic revision --autogenerate`` (and the
test that checks models and migrations agree) sees the whole schema.
"""
from alembic import context

from knowledge.db import Base, import_models

import_models()
target_metadata = Base.metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
