"""Environment variables as the platform reads them: typed, each failure one line naming the
variable. Only the settings take them from the process (`os.environ`); what a warehouse or a
source needs, it reads through the `Variables` the settings hand it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import overload

from platform_assets.errors import ConfigurationError


class Variables:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @overload
    def get(self, name: str) -> str | None: ...

    @overload
    def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """The variable's value, stripped; `default` if it is unset or blank."""
        value = self._values.get(name, "").strip()
        return value or default

    def required(self, name: str, needed_by: str) -> str:
        value = self.get(name)
        if value is None:
            raise ConfigurationError(f"{needed_by} needs {name}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(name, default)
        if value not in choices:
            raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(choices)}")
        return value

    def matching(self, name: str, pattern: re.Pattern[str], what: str, needed_by: str) -> str:
        value = self.required(name, needed_by)
        if not pattern.match(value):
            raise ConfigurationError(f"{name}={value!r} is not {what}")
        return value

    def seconds(self, name: str, default: float) -> float:
        """A non-negative number of seconds."""
        value = self.get(name)
        try:
            seconds = default if value is None else float(value)
        except ValueError:
            seconds = math.nan
        if not 0 <= seconds < math.inf:
            raise ConfigurationError(f"{name}={value!r} is not a number of seconds")
        return seconds

    def port(self, name: str, default: int) -> int:
        value = self.get(name, str(default))
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise ConfigurationError(f"{name}={value!r} is not a port number")
        return int(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name, str(default)).lower()
        if value not in ("true", "false"):
            raise ConfigurationError(f"{name}={value!r} must be true or false")
        return value == "true"

    def with_prefix(self, *prefixes: str) -> dict[str, str]:
        """The variables whose names start with any of `prefixes`, as they are."""
        return {name: value for name, value in self._values.items() if name.startswith(prefixes)}
