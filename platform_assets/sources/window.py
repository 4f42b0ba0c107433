"""An incremental source's cursor and window: which cursor values one partition read, as the lake
keeps it, and how far back a partition's first read reaches (its lookback)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from platform_assets.errors import RunError

Lookback = int | float | dt.timedelta
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?) ?(second|minute|hour|day|week)s?$")


def parse_lookback(value: Any) -> Lookback:
    """`lookback:` as the catalog writes it: a duration ('10 minutes') for a date or time cursor,
    or a number in the cursor's own units; never negative."""
    if isinstance(value, str) and (match := _DURATION.match(value.strip())):
        amount, unit = float(match[1]), match[2]
        lookback: Lookback = dt.timedelta(**{f"{unit}s": amount})
    elif isinstance(value, int | float) and not isinstance(value, bool):
        amount, lookback = value, value
    else:
        raise ValueError(
            f"lookback {value!r} is neither a number (in the cursor's units)"
            " nor a duration like '10 minutes'"
        )
    if amount < 0:
        raise ValueError(f"lookback {value!r} is negative")
    return lookback


@dataclass(frozen=True)
class Cursor:
    """The column an incremental source's windows run over, and its lookback."""

    column: str
    lookback: Lookback | None = None

    def window(self, after: Any, through: Any) -> Window:
        """The window (after, through], read from `after` less the lookback."""
        if after is None or self.lookback is None:
            return Window(after, through)
        try:
            return Window(after, through, after - self.lookback)
        except TypeError:
            raise RunError(
                f"lookback {self.lookback} does not apply to cursor {self.column}'s values"
                f" ({type(after).__name__}): a duration goes with a date or time cursor,"
                " a number with a numeric one"
            ) from None


@dataclass(frozen=True)
class Window:
    """The incremental rows of one partition: cursor values in (after, through]. `start`, when
    set, is earlier than `after` (the lookback): the read takes (start, through], so that a row
    committed late with a cursor inside a window already read is caught."""

    after: Any
    through: Any
    start: Any = None

    @property
    def reads_after(self) -> Any:
        """The exclusive lower bound of what the partition reads."""
        return self.after if self.start is None else self.start

    def overlaps(self, other: Window) -> bool:
        """Whether the two windows read some cursor values in common."""
        if self.through is None or other.through is None:
            return False
        return (self.reads_after is None or self.reads_after < other.through) and (
            other.reads_after is None or other.reads_after < self.through
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "after": _dump(self.after),
            "through": _dump(self.through),
            "start": _dump(self.start),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        """A recorded window; those recorded before lookbacks existed have no start."""
        return cls(_load(data["after"]), _load(data["through"]), _load(data.get("start")))


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
