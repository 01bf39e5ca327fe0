"""Thresholds of the early-warning rules and how alerts are delivered (``FAZHI_ALERT_*``).

The alert webhook itself is the queue's (``FAZHI_ALERT_WEBHOOK_URL``, also used for overdue
tickets); e-mail goes out over SMTP when ``FAZHI_ALERT_SMTP_HOST`` and ``FAZHI_ALERT_SMTP_TO``
are set.
"""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class AlertSettings(BaseSettings):
    model_config = ENV

    alert_check_s: float = 60.0  # how often the background loop evaluates the rules

    # Escalations / emergencies above their usual rate: the last window compared with the
    # same hours of each of the previous days.
    alert_rate_window_minutes: int = 60
    alert_rate_baseline_days: int = 7
    alert_rate_factor: float = 2.0  # fires at this multiple of the usual count ...
    alert_escalation_min: int = 10  # ... and at least this many escalations in the window
    alert_emergency_min: int = 3  # ... or emergencies

    # A rising no-answer rate: the share of legal questions the assistant could not answer
    # (escalated, other than "转人工") in the window against the previous days.
    alert_no_answer_window_minutes: int = 120
    alert_no_answer_min_questions: int = 20  # fewer questions in the window say too little
    alert_no_answer_rise: float = 0.15  # fires this far (share points) above the usual rate
    alert_no_answer_max_rate: float = 0.5  # without enough history: fires above this share

    # An entry collecting dislikes (ratings of 1 or 2 on its automatic answer).
    alert_dislike_days: int = 7
    alert_dislike_min: int = 3

    # Tickets forecast to miss their deadline (lawyers on duty, measured handling time).
    alert_forecast_min_tickets: int = 1
    alert_forecast_handling_minutes: float = 30.0  # assumed until handling time is measured

    # The WeChat outbox backing up (pending for a while) or failing.
    alert_outbox_backlog: int = 20
    alert_outbox_backlog_age_s: float = 120.0
    alert_outbox_failures: int = 3
    alert_outbox_window_minutes: int = 60

    # E-mail (smtplib): off while host or recipients are empty.
    alert_smtp_host: str = ""
    alert_smtp_port: int = 25
    alert_smtp_user: str = ""
    alert_smtp_password: str = ""
    alert_smtp_from: str = "fazhi@localhost"
    alert_smtp_to: str = ""  # comma-separated addresses
    alert_smtp_starttls: bool = False  # STARTTLS before logging in (port 587)
    alert_smtp_timeout_s: float = 10.0

    @property
    def smtp_recipients(self) -> list[str]:
        return [a.strip() for a in self.alert_smtp_to.replace(";", ",").split(",") if a.strip()]
