"""Residents' personal numbers masked: ID-card, bank-card and phone numbers.

Residents type them into questions; logs (``api.log_mask``) never keep them, and the
console's lists show them masked: only the lawyer who owns a ticket sees them in full, on
its own page (``assistant.queue.desk``).
"""
from __future__ import annotations

import re

# Full-width digits, X, spaces and hyphens (as Chinese input methods type them) are read
# as ASCII first, so that the patterns below see one kind of number.
_HALF_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                             "Ｘ": "X", "ｘ": "x", "\u3000": " ", "－": "-"})
# A run of digits, possibly written in groups ("110101 19900307 1234", "6222-0212-...").
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{2,}(?:[ -][0-9]{2,})*[Xx]?(?![0-9A-Za-z])")
_SEPARATOR = re.compile(r"([ -])")
# Mainland mobile numbers, optionally with +86 / 86 prefix and separators.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
# Landlines such as 010-12345678 / 0755 1234 5678.
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}[- ]?(\d{2})\d{2}(?!\d)")


def _mask_number(digits: str) -> str | None:
    """The masked form of a resident ID (18 or 15 digits) or bank card (16-19 digits):
    the first six and the last four (three for the 15-digit ID) stay; None otherwise."""
    n = len(digits)
    if n == 18 and digits[:17].isdigit():
        return digits[:6] + "*" * 8 + digits[-4:]
    if n == 15 and digits.isdigit():
        return digits[:6] + "*" * 8 + digits[-3:]
    if 16 <= n <= 19 and digits.isdigit():
        return digits[:6] + "*" * (n - 10) + digits[-4:]
    return None


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    whole = _mask_number(run.replace(" ", "").replace("-", ""))
    if whole is not None:
        return whole
    # Not one number as a whole (a phone number next to an ID, say): each group alone.
    return "".join(_mask_number(part) or part for part in _SEPARATOR.split(run))


def mask_numbers(text: str) -> str:
    """``text`` with every ID-card, bank-card and phone number masked."""
    text = _DIGIT_RUN.sub(_mask_run, text.translate(_HALF_WIDTH))
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}**", text)
