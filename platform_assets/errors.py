"""The two kinds of failure, each reported as one line: bad configuration and bad runs."""

from platform_assets.redaction import redact


class PlatformError(Exception):
    """A failure whose message is one line that names what failed and why (never a secret)."""

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigurationError(PlatformError):
    """Bad arguments, environment or catalog: nothing was attempted (main.py exits 2)."""


class RunError(PlatformError):
    """The work failed while running, e.g. bad upstream data (main.py exits 1)."""
