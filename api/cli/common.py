"""What the command groups share: progress on stderr, the store and the assistant."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from api.settings import Settings

if TYPE_CHECKING:
    from assistant.service import Assistant
    from knowledge.store import KnowledgeStore


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def assistant_for(settings: Settings) -> Assistant:
    from assistant.service import open_assistant  # heavy: only for the commands that ask

    return open_assistant(settings, progress=say)


def store_for(settings: Settings) -> KnowledgeStore:
    from assistant.service import open_store

    return open_store(settings.storage)
