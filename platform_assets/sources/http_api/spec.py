"""The `http_api` kind's `read:` block and traits; the reader (requests, urllib3) is reader.py."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from platform_assets.sources.kind import Origin, ReadSpec, SecretRef, Upstream, template
from platform_assets.strict import StrictModel

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.partitions import Period
    from platform_assets.sources.window import Window


class Pagination(StrictModel):
    """How to get every page: none, page numbers, a cursor in the body, or a Link header."""

    style: Literal["none", "page", "cursor", "link"] = "none"
    param: str | None = Field(default=None, description="page: the page parameter; cursor: its.")
    start: int = Field(default=1, description="page: the first page's number.")
    size_param: str | None = Field(default=None, description="page: the page-size parameter.")
    size: int | None = Field(default=None, ge=1, description="page: records per page asked for.")
    next_path: str | None = Field(default=None, description="cursor: dotted path to the next one.")
    follow_hosts: list[str] = Field(
        default_factory=list,
        description="link: hosts ('host' or 'host:port') besides the base URL's whose next-page"
        " links are followed; the source's headers and parameters go to them too.",
    )

    @model_validator(mode="after")
    def _complete(self) -> Pagination:
        needs = {"page": ["param"], "cursor": ["param", "next_path"]}.get(self.style, [])
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.style} pagination needs {', '.join(missing)}")
        if self.follow_hosts and self.style != "link":
            raise ValueError("follow_hosts is for link pagination")
        return self


_CREDENTIAL_NAME = re.compile(
    r"^key$|(^|-)(auth|authorization|token|api-?key|apikey|access-?key|secret|password|passwd"
    r"|signature|cookie)($|-)",
    re.IGNORECASE,
)
_CREDENTIAL_VALUE = re.compile(r"^\s*(bearer|basic|token)\s+\S", re.IGNORECASE)


def _literal_credential(name: str, value: str) -> bool:
    """A header or parameter that carries a credential written into the catalog, not a secret:
    named as credentials are (Authorization, X-Api-Key, access_token, …) or valued as an
    Authorization header is ('Bearer …'), with no {secret[…]} in it."""
    if "{secret[" in value or not value.strip():
        return False
    return bool(_CREDENTIAL_NAME.search(name.replace("_", "-")) or _CREDENTIAL_VALUE.match(value))


class HttpApiRead(ReadSpec):
    """A JSON API: one partition is the records of its dates, page after page.

    Partitions are read one after another: `rate_limit_per_second` is the API's, for them all.
    """

    kind: Literal["http_api"]
    base_url_env: str = Field(description="Environment variable with the API's base URL.")
    path: str = Field(description="Appended to the base URL; {start}, {end} (exclusive), {dt}.")
    params: dict[str, str] = Field(default_factory=dict, description="Query parameters.")
    headers: dict[str, str] = Field(default_factory=dict, description="{secret[name]} allowed.")
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    records: str = Field(default="", description="Dotted path to the records ('': the body).")
    pagination: Pagination = Field(default_factory=Pagination)
    date_column: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    max_seconds: float = Field(default=900, gt=0, description="Bound on one partition's time.")

    @model_validator(mode="after")
    def _templates(self) -> HttpApiRead:
        dates = {"start", "end", "dt"}
        template(self.path, dates)
        for value in self.params.values():
            template(value, dates | {"secret"})
        for value in self.headers.values():
            template(value, dates | {"secret"})
        used = {
            name.split("[")[1].rstrip("]")
            for value in [*self.params.values(), *self.headers.values()]
            for _, name, _, _ in string.Formatter().parse(value)
            if name and name.startswith("secret[")
        }
        unknown = sorted(used - set(self.secrets))
        if unknown:
            raise ValueError(f"secret(s) {unknown} used but not among 'secrets'")
        for where, values in (("headers", self.headers), ("params", self.params)):
            for name, value in values.items():
                if _literal_credential(name, value):
                    raise ValueError(
                        f"{where}.{name} holds a literal credential: put it in a secret"
                        " ('secrets:') and write {secret[name]} instead"
                    )
        return self

    @property
    def origin(self) -> Origin:
        return Origin(f"the JSON API at ${self.base_url_env}{self.path}", frozenset({"api"}))

    def batches(
        self,
        period: Period,
        schema: pa.Schema | None,
        upstream: Upstream,
        window: Window | None = None,
    ) -> Iterator[pa.RecordBatch]:
        from platform_assets.sources.http_api.reader import read_api

        secrets = {name: upstream.secret(ref) for name, ref in self.secrets.items()}
        return read_api(self, period, upstream.variable(self.base_url_env), secrets, schema)
