"""Where fazhi keeps its data: the data dir and the database (``FAZHI_DATA_DIR``,
``FAZHI_DATABASE_URL``)."""
from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Every domain's settings read the environment the same way.
ENV = SettingsConfigDict(env_prefix="FAZHI_", extra="ignore")


class StorageSettings(BaseSettings):
    model_config = ENV

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("fazhi")))
    database_url: str = ""  # empty: SQLite file in the data dir

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fazhi.db'}"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


class KnowledgeSettings(BaseSettings):
    """How the knowledge base is curated."""

    model_config = ENV

    #: Let the author of an entry publish it (a one-person office); by default a second
    #: person reviews (``FAZHI_KB_ALLOW_SELF_REVIEW``).
    kb_allow_self_review: bool = False
