"""The platform's load of a pushed range, timed inside the process like the peers' statements:
manifests read, table checked, the range replaced in one transaction (no asset checks).

    python -m bench.platform_load FIRST LAST    (settings from PLATFORM_* as for main.py)
"""

from __future__ import annotations

import sys
import time

from platform_assets.layers import Layer
from platform_assets.runtime.source_job import SourceJob, run_source_job
from platform_assets.settings import load_settings


def main() -> None:
    first, last = sys.argv[1:3]
    settings = load_settings()
    source = settings.catalog.source("flights")
    periods = source.periods(first, last)
    started = time.perf_counter()
    job = SourceJob("load", source, periods, (Layer.WAREHOUSE,), (), "bench")
    report = run_source_job(job, settings)
    print(f"seconds={time.perf_counter() - started:.6f} rows={report.materializations[0].rows}")


if __name__ == "__main__":
    main()
