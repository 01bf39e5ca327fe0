"""Settings of the WeChat channel: the official account, and tuning with safe defaults."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class WeChatSettings(BaseSettings):
    model_config = ENV

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget_s: float = 4.0
    redis_url: str = ""
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
