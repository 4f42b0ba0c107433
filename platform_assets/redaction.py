"""One rule for every message and log line: the values of the catalog's secrets, and the
passwords inside URLs, never appear. A secret is remembered when the settings resolve it; every
platform error's message and every line of the platform's log passes through `redact`."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, quote_plus

MASK = "***"
_SHORTEST = 4  # a shorter value would mask ordinary text; no real credential is this short
_URL_PASSWORD = re.compile(r"(?P<user>\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.IGNORECASE)
_secrets: set[str] = set()
_remembered: re.Pattern[str] | None = None


def remember(value: str) -> str:
    """Mask `value` from now on, as it is and as a URL would carry it; returns it."""
    global _remembered
    if len(value) >= _SHORTEST:
        _secrets.update({value, quote(value, safe=""), quote_plus(value)})
        # longest first, and never inside a longer word: a secret "value" leaves "values" be
        spellings = "|".join(map(re.escape, sorted(_secrets, key=len, reverse=True)))
        _remembered = re.compile(rf"(?<![A-Za-z0-9])(?:{spellings})(?![A-Za-z0-9])")
    return value


def redact(text: str) -> str:
    if _remembered is not None:
        text = _remembered.sub(MASK, text)
    return _URL_PASSWORD.sub(rf"\g<user>{MASK}@", text)


class Redacting(logging.Filter):
    """On a logger: each record's message redacted before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        return True


def redact_log(logger: logging.Logger) -> None:
    if not any(isinstance(existing, Redacting) for existing in logger.filters):
        logger.addFilter(Redacting())
