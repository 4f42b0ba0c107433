"""How a source's warehouse table is written from the lake: its write mode.

`replace` (the default): the table holds the lake's rows; loading a range replaces its partitions.
`merge`: the table holds the latest version of each key (by `order_by`); a version whose
`deleted` marker is set removes its key.
`history`: the table holds every version of each key, each valid from its `order_by` value until
the next version's (`valid_to`, NULL for the latest), `is_current` on the latest live one.

The lake keeps every version a source captured in every mode, so the table can always be
rebuilt from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field, model_validator

from platform_assets.identifiers import COLUMN
from platform_assets.strict import StrictModel

VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"
HISTORY_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)


class WriteMode(StrEnum):
    REPLACE = "replace"
    MERGE = "merge"
    HISTORY = "history"


class Write(StrictModel):
    """A source's `write:` block."""

    mode: WriteMode = WriteMode.REPLACE
    order_by: str | None = Field(
        default=None,
        pattern=COLUMN.pattern,
        description="The column whose largest value is a key's latest version (merge, history).",
    )
    deleted: str | None = Field(
        default=None,
        pattern=COLUMN.pattern,
        description="A marker column: true (or, not boolean, not null) deletes the key.",
    )

    @model_validator(mode="after")
    def _versioned(self) -> Write:
        if self.mode is WriteMode.REPLACE:
            if self.order_by is not None or self.deleted is not None:
                raise ValueError("order_by and deleted go with mode merge or history")
        elif self.order_by is None:
            raise ValueError(f"mode {self.mode} needs order_by: the column that orders versions")
        return self


@dataclass(frozen=True)
class TableWrite:
    """What a warehouse needs to write a table in its mode."""

    mode: WriteMode = WriteMode.REPLACE
    key: tuple[str, ...] = ()
    order_by: str = ""
    deleted: str | None = None


REPLACE = TableWrite()
