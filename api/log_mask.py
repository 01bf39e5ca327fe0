"""Masking of personal data in log lines: ID-card numbers, phone numbers, secrets.

Residents type their ID-card and phone numbers into questions; logs must not keep them.
The filter is installed on the ``fazhi`` logger so every channel log line passes through it.
"""
from __future__ import annotations

import logging
import re

# 18-digit resident ID (last char may be X) and the old 15-digit form.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(?:\d{8}(\d{3}[0-9Xx])|\d{6}(\d{3}))(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86 / 86 prefix and separators.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
# Landlines such as 010-12345678 / 0755 1234 5678.
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}[- ]?(\d{2})\d{2}(?!\d)")

# Credentials in URLs (httpx logs request lines): access tokens, app secrets.
_URL_SECRET = re.compile(r"((?:access_token|secret|appsecret)=)[^&\s\"']+", re.IGNORECASE)

_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Never let ``value`` (a token, app secret, AES key, access token) reach a log line."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def mask_pii(text: str) -> str:
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2) or m.group(3)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}**", text)
    text = _URL_SECRET.sub(r"\1***", text)
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def preview(text: str, limit: int = 40) -> str:
    """A short, masked excerpt of resident text for a log line."""
    text = mask_pii(text.replace("\n", " "))
    return text if len(text) <= limit else text[:limit] + "…"


class PiiMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_installed = False
MASKED_LOGGERS = ("fazhi", "httpx", "httpcore", "uvicorn")


def install(logger_prefixes: tuple[str, ...] = MASKED_LOGGERS) -> None:
    """Mask every record of our loggers and of httpx's, whose request lines carry the access
    token in the URL.  A logger's filter does not see its children's records, so the mask
    sits in the record factory, where every record passes (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    mask = PiiMaskingFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(logger_prefixes):
            mask.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
