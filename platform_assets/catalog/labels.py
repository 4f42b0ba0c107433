"""Who owns a source or an export and how it is tagged, by the rules Dagster holds its owners and
tags to (an email or `team:<name>`; Kubernetes-like tag keys and values), so that a mistake is the
catalog's one line and not a Dagster error when the code location loads."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7}")
_TAG_KEY = re.compile(r"^([A-Za-z0-9_.-]{1,63}/)?[A-Za-z0-9_.-]{1,63}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.-]{0,63}$")
_RESERVED_PREFIX = "dagster/"


def _owner(value: str) -> str:
    if _EMAIL.fullmatch(value) or (value.startswith("team:") and len(value) > len("team:")):
        return value
    raise ValueError(f"owner {value!r} is neither an email address nor team:<name>")


def _tags(value: dict[str, str]) -> dict[str, str]:
    for key, tag in value.items():
        if not _TAG_KEY.match(key) or key.startswith(_RESERVED_PREFIX):
            raise ValueError(
                f"tag key {key!r}: letters, digits, '_', '-', '.', at most 63, optionally one"
                f" 'prefix/' (not {_RESERVED_PREFIX!r})"
            )
        if not _TAG_VALUE.match(tag):
            raise ValueError(
                f"tag {key}: value {tag!r}: letters, digits, '_', '-', '.', at most 63"
            )
    return value


Owner = Annotated[str, AfterValidator(_owner)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
