"""All settings, one sub-settings object per domain; each component is given only its own.

Every field is read from the environment as ``FAZHI_<NAME>``.  ``Settings(data_dir=...,
wechat_token=...)`` also takes the flat names, as the environment spells them, and hands
each to its domain.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings

from api.console.settings import ConsoleSettings
from api.wechat.settings import WeChatSettings
from assistant.alerts.settings import AlertSettings
from assistant.learning.settings import LearningSettings
from assistant.privacy.settings import PrivacySettings
from assistant.queue.settings import QueueSettings, StaffSettings
from assistant.settings import AssistantSettings
from index.settings import IndexSettings
from knowledge.settings import KnowledgeSettings, StorageSettings


class Settings(BaseModel):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)

    @model_validator(mode="before")
    @classmethod
    def _route_flat_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        routed: dict[str, Any] = {k: v for k, v in data.items() if k in cls.model_fields}
        flat: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            if key in cls.model_fields:
                continue
            domain = next((name for name, kind in _DOMAINS.items() if key in kind.model_fields), None)
            if domain is None:
                raise ValueError(f"unknown setting {key!r}")
            flat.setdefault(domain, {})[key] = value
        for domain, values in flat.items():
            routed[domain] = _DOMAINS[domain](**values)
        return routed


_DOMAINS: dict[str, type[BaseSettings]] = {
    "storage": StorageSettings, "knowledge": KnowledgeSettings, "index": IndexSettings, "assistant": AssistantSettings,
    "queue": QueueSettings, "staff": StaffSettings, "wechat": WeChatSettings, "privacy": PrivacySettings,
    "console": ConsoleSettings, "alerts": AlertSettings, "learning": LearningSettings,
}
