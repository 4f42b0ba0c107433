"""What every source kind provides: its read spec (the catalog's `read:` block, a pydantic model),
its traits, and its reader, which turns one partition of upstream data into Arrow record batches.

A kind's spec module stays light (the catalog imports every kind to validate `read:`); its
reader, with the libraries it needs (requests, SQLAlchemy, …), is imported only when it reads.
"""

from __future__ import annotations

import string
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from platform_assets.strict import StrictModel

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.partitions import Period
    from platform_assets.sources.window import Cursor, Window
    from platform_assets.storage import Store


class SecretRef(StrictModel):
    """Where a secret comes from (its value never sits in the catalog): an environment variable,
    an AWS Secrets Manager secret, or both (in aws mode the secret, locally the variable)."""

    env: str | None = Field(default=None, description="An environment variable holding it.")
    aws_secret: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9/_+=.@-]+$",
        description="A Secrets Manager secret name (infra creates it and lets the job read it).",
    )
    field: str | None = Field(default=None, description="A key of the secret's JSON string.")

    @model_validator(mode="after")
    def _somewhere(self) -> SecretRef:
        if self.env is None and self.aws_secret is None:
            raise ValueError("name env, aws_secret or both")
        return self


@dataclass(frozen=True)
class Upstream:
    """What readers reach besides the catalog: the landing store, and the values the catalog
    names by reference (an environment variable, a secret), resolved by the settings."""

    landing: Store
    variable: Callable[[str], str]
    secret: Callable[[SecretRef], str]


@dataclass(frozen=True)
class Origin:
    """Where a kind reads from, as lineage shows it, naming no secret: what it is (`summary`),
    Dagster kinds for its icons, and the landing folder its files arrive in, if any."""

    summary: str
    kinds: frozenset[str]
    landing_prefix: str | None = None


class ReadSpec(StrictModel):
    """A kind's `read:` block. A subclass sets `kind` to a `Literal` of its name, declares its
    keys, states its traits and implements `batches`; the registry lists it."""

    kind: str

    parallel_partitions: ClassVar[bool] = False
    """Whether partitions may be read side by side: nothing between them is shared (a rate
    limit, a cursor window)."""

    @property
    def cursor(self) -> Cursor | None:
        """An incremental kind's cursor: the column whose windows its partitions read, kept in
        the lake (`newest_cursor`), rather than the rows of their dates; None if it has none."""
        return None

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    def refuses_timezone(self, zone: str) -> str | None:
        """Why the kind cannot read partitions as the local days of `zone` (None: it can)."""
        return None

    @property
    def origin(self) -> Origin:
        """Where this source's rows come from (never a secret's value)."""
        return Origin(f"the {self.kind} upstream", frozenset({self.kind}))

    def newest_cursor(self, period: Period, upstream: Upstream) -> Any:
        """An incremental kind's largest cursor value upstream now (None: no rows)."""
        raise NotImplementedError(f"{self.kind} sources keep no cursor window")

    @abstractmethod
    def batches(
        self,
        period: Period,
        schema: pa.Schema | None,
        upstream: Upstream,
        window: Window | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The period's rows (its `window`'s, when incremental), typed by `schema` where the kind
        can (else inferred), each batch tagged with where it came from (`contracts.with_origin`)."""


def template(value: str, allowed: set[str]) -> str:
    """A str.format template whose fields are among `allowed` (their [items] aside)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        raise ValueError(f"malformed template: {error}") from None
    unknown = sorted({name.split("[")[0] for name in fields} - allowed)
    if unknown:
        shown = ", ".join(f"{{{name}}}" for name in sorted(allowed))
        raise ValueError(f"unknown template field(s) {unknown}; there are {shown}")
    return value
