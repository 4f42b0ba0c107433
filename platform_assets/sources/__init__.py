"""Sources: each kind turns one partition of upstream data into Arrow record batches."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from platform_assets.catalog import DatabaseRead, FilesRead, HttpApiRead, ReadSpec, SecretRef
from platform_assets.partitions import Period
from platform_assets.sources.files import read_files
from platform_assets.sources.window import Window
from platform_assets.storage import Store


@dataclass(frozen=True)
class Upstream:
    """What sources reach besides the catalog: the landing store, and the values the catalog
    names by reference (an environment variable, a secret), resolved by the settings."""

    landing: Store
    variable: Callable[[str], str]
    secret: Callable[[SecretRef], str]


def extract(
    read: ReadSpec,
    period: Period,
    schema: pa.Schema | None,
    upstream: Upstream,
    window: Window | None = None,
) -> Iterator[pa.RecordBatch]:
    """Batches of the period's rows (of its `window`, for an incremental database source),
    typed by `schema` where the kind can (else inferred)."""
    match read:
        case FilesRead():
            return read_files(read, period, schema, upstream.landing)
        case HttpApiRead():
            from platform_assets.sources.http_api import read_api  # requests: ~0.1 s

            secrets = {name: upstream.secret(ref) for name, ref in read.secrets.items()}
            return read_api(read, period, upstream.variable(read.base_url_env), secrets)
        case DatabaseRead():
            from platform_assets.sources.database import read_database  # SQLAlchemy: ~0.25 s

            return read_database(read, period, upstream.secret(read.url), window)
