"""pandas into PostgreSQL with `DataFrame.to_sql(method="multi")`, the usual hand-written load:
a partitioned parquet lake into a table, `dt` from the folder names (the files hold none);
prints the load's seconds.

    python bench/peers/pandas_to_sql.py LAKE 'dt=2013-01-*/*.parquet' postgresql+psycopg://… SCHEMA
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy


def partition(path: Path) -> pd.DataFrame:
    """A file's rows and its folder's day (dt=YYYY-MM-DD/)."""
    frame = pq.read_table(path).to_pandas()
    frame["dt"] = dt.date.fromisoformat(path.parent.name.removeprefix("dt="))
    return frame


def main() -> None:
    lake, pattern, url, schema = sys.argv[1:5]
    frame = pd.concat(partition(path) for path in sorted(Path(lake).glob(pattern)))
    engine = sqlalchemy.create_engine(url)
    started = time.perf_counter()
    frame.to_sql(
        "flights_to_sql",  # beside the platform's table, not over it
        engine,
        schema=schema,
        if_exists="replace",
        index=False,
        method="multi",
        chunksize=1000,
    )
    print(f"seconds={time.perf_counter() - started:.6f}")


if __name__ == "__main__":
    main()
