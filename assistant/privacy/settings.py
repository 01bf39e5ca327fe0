"""How long residents' conversation text is kept (``FAZHI_RETENTION_DAYS``)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class PrivacySettings(BaseSettings):
    model_config = ENV

    # Conversation text older than this many days is deleted (the statistics stay);
    # 0 keeps it for ever.
    retention_days: int = Field(180, ge=0)
    retention_check_s: float = Field(3600.0, gt=0)  # how often the service looks for it
    retention_batch: int = Field(500, ge=1)  # rows per transaction
