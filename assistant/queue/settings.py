"""Settings of the lawyer queue (限时办结, expiry, alerts) and of staff logins.

The deadline defaults live here and only here: a partial ``FAZHI_TICKET_DEADLINE_MINUTES``
('{"normal": 720}') keeps the other defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import field_validator
from pydantic_settings import BaseSettings

from assistant.queue.models import Priority
from knowledge.settings import ENV

DEFAULT_DEADLINE_MINUTES: Mapping[str, int] = {Priority.EMERGENCY.value: 30, Priority.NORMAL.value: 24 * 60}


def with_default_deadlines(minutes: Mapping[str, int]) -> dict[str, int]:
    return {**DEFAULT_DEADLINE_MINUTES, **minutes}


class QueueSettings(BaseSettings):
    model_config = ENV

    # Minutes to a first response by priority ("emergency", "normal"); a taxonomy category
    # as key overrides "normal" for that category.
    # From the environment as JSON: FAZHI_TICKET_DEADLINE_MINUTES='{"normal": 720}'.
    ticket_deadline_minutes: dict[str, int] = dict(DEFAULT_DEADLINE_MINUTES)
    ticket_expire_days: int = 7  # an answered ticket the resident never writes back to
    ticket_sweep_s: float = 30.0  # how often overdue tickets are looked for
    alert_webhook_url: str = ""  # overdue tickets are POSTed here as JSON when set
    alert_timeout_s: float = 5.0  # per POST to the alert webhook

    @field_validator("ticket_deadline_minutes")
    @classmethod
    def _keep_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        return with_default_deadlines(value)


class StaffSettings(BaseSettings):
    model_config = ENV

    login_max_failures: int = 5  # wrong passwords in a row before the account is locked
    login_lockout_minutes: float = 15.0


@dataclass(frozen=True)
class QueuePolicy:
    """Deadlines per priority (a category key overrides "normal"), and expiry."""

    deadline_minutes: Mapping[str, int] = field(default_factory=dict)
    expire_after: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadline_minutes", with_default_deadlines(self.deadline_minutes))

    @classmethod
    def from_settings(cls, settings: QueueSettings) -> QueuePolicy:
        return cls(dict(settings.ticket_deadline_minutes), timedelta(days=settings.ticket_expire_days))

    def deadline_for(self, priority: str, category: str | None) -> timedelta:
        # Emergencies are emergencies whatever the subject; a category may tighten or
        # loosen the normal deadline (inheritance takes longer to read than unpaid wages).
        if priority == Priority.EMERGENCY:
            return timedelta(minutes=self.deadline_minutes[Priority.EMERGENCY])
        minutes = self.deadline_minutes.get(category or "", self.deadline_minutes[Priority.NORMAL])
        return timedelta(minutes=minutes)
