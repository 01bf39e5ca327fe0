"""Masking of log lines: residents' ID-card, bank-card and phone numbers, and secrets.

Residents type their ID-card, bank-card and phone numbers into questions; logs must not
keep them (``logging_config`` installs the filter on every handler of a served process).
The numbers are masked by ``assistant.pii``, which the console's lists use too.
"""
from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

from assistant.pii import mask_numbers

# Credentials in URLs (httpx logs request lines): access tokens, app secrets.
_URL_SECRET = re.compile(r"((?:access_token|secret|appsecret)=)[^&\s\"']+", re.IGNORECASE)

_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Never let ``value`` (a token, app secret, AES key, access token) reach a log line."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def mask_pii(text: str) -> str:
    text = _URL_SECRET.sub(r"\1***", mask_numbers(text))
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
