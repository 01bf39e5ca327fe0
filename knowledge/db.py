"""Database engine, declarative base and migrations (Alembic, run programmatically)."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Every module that declares tables on ``Base`` (the migrations create their schema).
MODEL_MODULES = ("knowledge.models", "assistant.dialogue.models", "assistant.queue.models",
                 "assistant.queue.audit", "assistant.queue.staff", "api.wechat.models",
                 "api.console.auth", "assistant.queue.staff_admin", "assistant.tuning.models",
                 "assistant.queue.roster", "assistant.alerts.models",
                 "assistant.learning.models")


class Base(DeclarativeBase):
    pass


def import_models() -> None:
    """Register every table on ``Base.metadata`` (for autogenerate and its check)."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (0 when the database cannot say)."""
    return cast(CursorResult[Any], result).rowcount or 0


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
