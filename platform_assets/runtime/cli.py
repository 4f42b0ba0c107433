"""main.py's command line: exit 0 ok, 2 bad arguments or configuration, 1 a failure at run time.

Only the arguments are parsed here; the work (and its heavy imports: pyarrow, duckdb, boto3) is
loaded after them, so that `--help` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from platform_assets.errors import ConfigurationError
from platform_assets.redaction import redact_log
from platform_assets.runtime.progress import stderr_handler

log = logging.getLogger("platform")
USAGE_EXAMPLES = """
examples:
  python main.py list
  python main.py push --source flights --partition 2013-01-01 --to 2013-01-31
  python main.py load --source flights --partition 2013-01-01
  python main.py status --source flights --partition 2013-01-01 --to 2013-01-31
  python main.py pull --export carrier_daily_delays --partition 2013-01-01 --to 2013-01-31
  python main.py rebuild --source flights

Without --partition, the partitions come from Dagster (when it launched the run) or are the
schedule's previous period (yesterday for a daily source, last week or last month).
Settings come from PLATFORM_ENV, PLATFORM_HOME and PLATFORM_CATALOG.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigurationError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="main.py",
        description="Run the data platform's work: push a source to the lake, load it, check it.",
        epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list the catalog's sources and exports")
    pull = commands.add_parser("pull", help="run an export in the warehouse into the lake")
    pull.add_argument("--export", required=True, help="an export name from the catalog")
    _partition_arguments(pull)
    for name, text in (
        ("push", "extract partitions from the source into the lake, then load them"),
        ("load", "load partitions from the lake into the warehouse"),
        ("check", "run the asset checks over partitions"),
        ("status", "rows per partition in the lake and in the warehouse"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--source", required=True, help="a source name from the catalog")
        _partition_arguments(command)
        if name == "push":
            command.add_argument(
                "--no-load", action="store_true", help="stop after the lake; skip the warehouse"
            )
        if name == "status":
            command.add_argument(
                "--every",
                action="store_true",
                help="a line per partition (over 31 partitions the default is a line per month)",
            )
    text = "rewrite every published partition in the catalog's column types, recreate the table"
    rebuild = commands.add_parser("rebuild", help=text, description=text)
    rebuild.add_argument("--source", required=True, help="a source name from the catalog")
    return parser


def _log_to_stderr() -> None:
    """The platform's own log lines to stderr; libraries' stay at their WARNING default."""
    redact_log(log)
    if not log.handlers:
        log.addHandler(stderr_handler())
        log.setLevel(logging.INFO)


def _partition_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--partition", metavar="YYYY-MM-DD", help="the (first) partition")
    command.add_argument("--to", metavar="YYYY-MM-DD", help="the last partition of a range")


def main(argv: Sequence[str] | None = None) -> int:
    _log_to_stderr()
    try:
        arguments = build_parser().parse_args(argv)
    except ConfigurationError as error:
        print(f"main.py: error: {error}", file=sys.stderr)
        return 2
    from platform_assets.runtime.dispatch import dispatch  # the heavy part, only now

    return dispatch(arguments)
