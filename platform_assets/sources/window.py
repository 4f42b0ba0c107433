"""An incremental source's window: which cursor values one partition read, as the lake keeps it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Window:
    """The incremental rows of one partition: cursor values in (after, through]."""

    after: Any
    through: Any

    def to_json(self) -> dict[str, Any]:
        return {"after": _dump(self.after), "through": _dump(self.through)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        return cls(_load(data["after"]), _load(data["through"]))


def _dump(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and "datetime" in value:
        return dt.datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and "date" in value:
        return dt.date.fromisoformat(value["date"])
    return value
