"""Masking of personal data in log lines: ID-card numbers, phone numbers, secrets.

Residents type their ID-card and phone numbers into questions; logs must not keep them.
``logging_config`` installs the filter on every handler of a served process.
"""
from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

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
    """Masks what a record says.  ``logging_config`` puts it on every handler: a handler's
    filter sees the records of all loggers that reach it (a logger's would miss its
    children's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        masked = mask_pii(message)
        if masked == message:
            return True
        # Keep the record's shape: some formatters build the line from ``args`` rather than
        # from the message (uvicorn's access formatter unpacks them), so each text argument
        # is masked in place.
        if isinstance(record.msg, str):
            record.msg = mask_pii(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        try:
            after = record.getMessage()
        except Exception:  # e.g. a masked text argument under "%d"
            after = message
        if mask_pii(after) != after:
            # A number spread over several arguments, or inside a non-text one: the masked
            # message replaces the template (formatters that call getMessage() are fine).
            record.msg, record.args = masked, None
        return True


def _mask_value(value: object) -> object:
    return mask_pii(value) if isinstance(value, str) else value


def logging_config(level: str = "info") -> dict[str, Any]:
    """The logging config of a served process (``fazhi serve`` and each uvicorn worker):
    uvicorn's handlers and formats for its own loggers, ours on stderr for the rest (fazhi,
    httpx, whose request lines carry the access token), and the mask on every handler."""
    from uvicorn.config import LOGGING_CONFIG  # only where we serve

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"pii": {"()": f"{__name__}.PiiMaskingFilter"}}
    config["formatters"]["fazhi"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["fazhi"] = {"class": "logging.StreamHandler", "formatter": "fazhi",
                                   "stream": "ext://sys.stderr"}
    for handler in config["handlers"].values():
        handler["filters"] = ["pii"]
    config["root"] = {"handlers": ["fazhi"], "level": level.upper()}
    return config
