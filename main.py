"""The platform's single entrypoint: `python main.py --help`."""

import sys

from platform_assets.runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
