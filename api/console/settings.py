"""Settings of the lawyer console's logins."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class ConsoleSettings(BaseSettings):
    model_config = ENV

    web_session_hours: float = 12.0  # a login lasts one working day
    web_cookie_secure: bool = False  # always mark cookies Secure (behind a TLS proxy)
