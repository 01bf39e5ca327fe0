"""Normalise resident text before matching: traditional→simplified, full-width→half-width,
control characters, emoji and whitespace noise, runaway punctuation, very long messages."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\U00002B00-\U00002BFF"
    "\uFE0F\u200D\u20E3]+"
)
_WHITESPACE = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([!?,.~。，！？、…；;：:~-])\1+")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # loaded on first use, not at import

    return OpenCC("t2s")


def to_halfwidth(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str, max_chars: int = 500) -> str:
    """The canonical form used for both indexing and queries."""
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
                   or ch in "\n\t")
    text = _EMOJI.sub(" ", text)
    text = to_halfwidth(text)
    text = _t2s().convert(text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > max_chars:
        # Residents put the question up front; a long tail of story rarely changes the topic.
        text = text[:max_chars]
    return text
