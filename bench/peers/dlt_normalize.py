"""dlt: a month of nested order records (daily JSON lines files) extracted and normalized to
parquet, not loaded: each line parsed by `json.loads` and handed to dlt as a Python dict (a
file's records yielded as one list), so that dlt's normalizer flattens the objects into
`parent__child` columns and turns each list into a child table. The filesystem destination
(a local folder) is configured, as normalizing to parquet asks for one, but nothing is loaded.

    .venv-bench/bin/python bench/peers/dlt_normalize.py LANDING_DIR BUCKET_DIR PIPELINES_DIR
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt


def main() -> None:
    landing, bucket, pipelines = sys.argv[1:4]

    @dlt.resource(name="orders")
    def orders() -> Iterator[list[dict[str, Any]]]:
        for path in sorted(Path(landing).glob("*.jsonl")):
            with path.open(encoding="utf-8") as lines:
                yield [json.loads(line) for line in lines]

    pipeline = dlt.pipeline(
        pipeline_name="bench_flatten",
        destination=dlt.destinations.filesystem(bucket_url=Path(bucket).as_uri()),
        dataset_name="flattened",
        pipelines_dir=pipelines,
    )
    # dlt 1.31 takes the file format at extract; normalize writes the files in it
    pipeline.extract(orders(), loader_file_format="parquet")
    pipeline.normalize()


if __name__ == "__main__":
    main()
