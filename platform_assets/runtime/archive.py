"""What a run leaves behind: its log (always) and, when no Dagster watched it, its report."""

from __future__ import annotations

import io
import json
import logging

from platform_assets.runtime.protocol import report_from_json, report_to_json
from platform_assets.runtime.report import RunReport
from platform_assets.settings import Settings

log = logging.getLogger("platform")


class LogCapture(logging.Handler):
    """Keeps the run's log lines, to store them beside the run when it ends."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = io.StringIO()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self._buffer.write(self.format(record) + "\n")

    def note(self, line: str) -> None:
        """A line that went to stderr directly (the run's one-line error)."""
        self._buffer.write(line.rstrip("\n") + "\n")

    def text(self) -> str:
        return self._buffer.getvalue()


def report_key(report: RunReport) -> str:
    """Run ids start with a UTC timestamp, so reports list in the order they were written."""
    return f"{report.run_id}-{report.command}-{report.name}.json"


def store_report(settings: Settings, report: RunReport) -> str:
    path = settings.reports.path(report_key(report))
    settings.reports.put(path, json.dumps(report_to_json(report)).encode())
    return settings.reports.url(path)


def report_names(settings: Settings) -> list[str]:
    """The stored reports' names, oldest first."""
    store = settings.reports
    return sorted(
        path.rsplit("/", 1)[-1] for path in store.list_files(store.root) if path.endswith(".json")
    )


def read_report(settings: Settings, name: str) -> RunReport:
    return report_from_json(json.loads(settings.reports.read_bytes(settings.reports.path(name))))


def reported_command(name: str) -> tuple[str, str] | None:
    """(command, target) of a report's name as `report_key` wrote it; None for another name."""
    parts = name.removesuffix(".json").rsplit("-", 2)
    return (parts[1], parts[2]) if len(parts) == 3 else None


def store_log(settings: Settings, run_prefix: str, name: str, text: str) -> str:
    path = settings.logs.path(f"{run_prefix}/{name}.log")
    settings.logs.put(path, text.encode())
    return settings.logs.url(path)
