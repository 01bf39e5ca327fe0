"""Understand a short follow-up ("那赔偿怎么算？") in the light of the previous question."""
from __future__ import annotations

import re

_FOLLOWUP_START = re.compile(r"^(?:那|那么|那如果|如果|要是|还有|另外|并且|而且|可是|但是|然后|那要|那我|那他|那她)")
_SHORT = 14  # characters: longer messages usually carry their own topic


def rewrite(text: str, history: list[str] | None, has_own_topic: bool) -> str:
    """Prefix the last question when ``text`` reads as a continuation of it."""
    if not history:
        return text
    stripped = text.strip()
    if len(stripped) > _SHORT * 2:
        return text
    if _FOLLOWUP_START.match(stripped) or (len(stripped) <= _SHORT and not has_own_topic):
        return f"{history[-1].strip()} {stripped}"
    return text
