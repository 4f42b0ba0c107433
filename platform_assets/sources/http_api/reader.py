"""The `http_api` kind's reader: a JSON API page by page, retried with backoff, within bounds.

Retries (429, 5xx, dropped connections, timeouts) are urllib3's: exponential backoff with jitter,
honouring Retry-After. Any other error status fails the partition at once, naming the URL.

The catalog's headers and parameters (credentials among them) go only to the base URL's origin
and the hosts its link pagination allows: a next-page link elsewhere fails the partition, and a
redirect elsewhere is followed without the catalog's headers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyarrow as pa
import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from platform_assets.contracts import with_origin
from platform_assets.errors import RunError
from platform_assets.nesting import json_values
from platform_assets.partitions import Period
from platform_assets.sources.http_api.spec import HttpApiRead, Pagination
from platform_assets.sources.period_filter import rows_in_period

RETRIED_STATUSES = (429, 500, 502, 503, 504)


class ApiError(RunError):
    """The API answered with an error, or with something that is not the expected JSON."""


def read_api(
    spec: HttpApiRead,
    period: Period,
    base_url: str,
    secrets: dict[str, str],
    schema: pa.Schema | None = None,
) -> Iterator[pa.RecordBatch]:
    """One batch per page of the period's records, each tagged with its request's URL; the
    fields `schema` types `json` are kept as their JSON text, whatever their shape."""
    values = {"start": period.start, "end": period.end, "dt": period.start, "secret": secrets}
    url = base_url.rstrip("/") + spec.path.format(**values)
    params: dict[str, Any] = {name: value.format(**values) for name, value in spec.params.items()}
    headers = {name: value.format(**values) for name, value in spec.headers.items()}
    pagination = spec.pagination
    if pagination.style == "page":
        params[str(pagination.param)] = pagination.start
        if pagination.size_param and pagination.size:
            params[pagination.size_param] = pagination.size
    deadline = time.monotonic() + spec.max_seconds
    pace = _Pace(spec.rate_limit_per_second)
    allowed = _Allowed(url, pagination.follow_hosts)
    with _session(spec, url, deadline, allowed, set(headers)) as session:
        next_url: str | None = url
        while next_url is not None:
            pace.wait()
            if time.monotonic() > deadline:
                raise ApiError(f"{url}: still paging after {spec.max_seconds:g}s (max_seconds)")
            response = _get(session, next_url, params, headers, spec, deadline)
            body = _json(response)
            records = _records(body, spec.records, response.url)
            if records:
                batch = with_origin(_batch(records, schema, response.url), response.url)
                if spec.date_column is not None:
                    batch = rows_in_period(batch, spec.date_column, period)
                yield batch
            next_url, params = _next(pagination, body, response, records, next_url, params)
            if next_url is not None and not allowed(next_url):
                raise ApiError(
                    f"{response.url}: the next page's link leaves {allowed.origin} for"
                    f" {_Origin.of(next_url)}, a host the catalog does not allow"
                    " (pagination.follow_hosts)"
                )


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _Origin:
    """A URL's scheme, host and port (spelled out when the URL leaves it to the scheme)."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: str) -> _Origin:
        parts = urlsplit(url)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:  # not a port number
            port = None
        return cls(parts.scheme, parts.hostname or "", port)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


class _Allowed:
    """Whether a URL may receive the catalog's headers: the base URL's origin, or a host the
    catalog allows ('host' on any port, or 'host:port'), over the base URL's scheme or https."""

    def __init__(self, base_url: str, hosts: list[str]) -> None:
        self.origin = _Origin.of(base_url)
        self._schemes = {self.origin.scheme, "https"}
        self._hosts = {host.lower() for host in hosts}

    def __call__(self, url: str) -> bool:
        origin = _Origin.of(url)
        if origin == self.origin:
            return True
        if origin.scheme not in self._schemes or not origin.host or origin.port is None:
            return False
        return origin.host in self._hosts or f"{origin.host}:{origin.port}" in self._hosts


class _Session(requests.Session):
    """A redirect to a URL not allowed loses the catalog's headers (requests strips only
    `Authorization`, and only when the host changes)."""

    def __init__(self, allowed: _Allowed, catalog_headers: set[str]) -> None:
        super().__init__()
        self._allowed = allowed
        self._catalog_headers = catalog_headers

    def rebuild_auth(self, prepared_request: Any, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if not self._allowed(prepared_request.url):
            for name in self._catalog_headers:
                prepared_request.headers.pop(name, None)


def _session(
    spec: HttpApiRead, url: str, deadline: float, allowed: _Allowed, catalog_headers: set[str]
) -> requests.Session:
    retry = _BoundedRetry(
        total=spec.max_retries,
        connect=spec.max_retries,
        read=spec.max_retries,
        status=spec.max_retries,
        backoff_factor=0.5,
        backoff_jitter=0.25,
        backoff_max=30,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=["GET"],
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.bound = (url, spec.max_seconds, deadline)
    session = _Session(allowed, catalog_headers)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class _BoundedRetry(Retry):
    """urllib3's retries, but a wait (backoff or Retry-After) past the deadline fails at once."""

    bound: tuple[str, float, float] = ("", math.inf, math.inf)

    def new(self, **changes: Any) -> _BoundedRetry:
        retry = super().new(**changes)
        retry.bound = self.bound
        return retry

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        asked = self.get_retry_after(response) if response is not None else None
        wait = asked if asked else self.get_backoff_time()
        url, max_seconds, deadline = self.bound
        if time.monotonic() + wait > deadline:
            raise ApiError(
                f"{url}: a retry {wait:g}s away would pass max_seconds ({max_seconds:g}s)"
            )
        time.sleep(wait)


def _get(
    session: requests.Session,
    url: str,
    params: dict[str, Any],
    headers: dict[str, str],
    spec: HttpApiRead,
    deadline: float,
) -> requests.Response:
    timeout = min(spec.timeout_seconds, max(deadline - time.monotonic(), 0.001))
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        raise ApiError(f"{url}: no answer after {spec.max_retries} retries ({error})") from None
    if response.status_code >= 400:
        retried = " after retries" if response.status_code in RETRIED_STATUSES else ""
        raise ApiError(f"{response.url}: HTTP {response.status_code} {response.reason}{retried}")
    return response


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except RecursionError:
        raise ApiError(f"{response.url}: the JSON nests too deep to parse") from None
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        start = " ".join(response.text[:60].split())
        raise ApiError(f"{response.url}: not JSON ({kind}): {start!r}") from None


def _records(body: Any, path: str, url: str) -> list[dict[str, Any]]:
    found = body
    for part in [part for part in path.split(".") if part]:
        if not isinstance(found, dict) or part not in found:
            raise ApiError(f"{url}: no {path!r} in the response")
        found = found[part]
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise ApiError(f"{url}: {path or 'the body'} is not a list of records")
    return found


def _batch(records: list[dict[str, Any]], schema: pa.Schema | None, url: str) -> pa.RecordBatch:
    """Records as columns: every field any record has, in first-seen order; absent is null.
    Objects become structs (with every key any of them has) and arrays lists."""
    names = list(dict.fromkeys(name for record in records for name in record))
    documents = {f.name for f in schema if f.type == pa.json_()} if schema is not None else set()
    columns = {}
    for name in names:
        values = [record.get(name) for record in records]
        try:
            columns[name] = json_values(values) if name in documents else pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise ApiError(
                f"{url}: field {name} has values of more than one shape ({error});"
                " declare it json to keep it as a document"
            ) from None
    return pa.RecordBatch.from_pydict(columns)


def _next(
    pagination: Pagination,
    body: Any,
    response: requests.Response,
    records: list[dict[str, Any]],
    url: str,
    params: dict[str, Any],
) -> tuple[str | None, dict[str, Any]]:
    if pagination.style == "page":
        full = pagination.size is None or len(records) >= pagination.size
        if not records or not full:
            return None, params
        page = str(pagination.param)  # validated: page pagination names its parameter
        return url, {**params, page: params[page] + 1}
    if pagination.style == "cursor":
        cursor = body
        for part in str(pagination.next_path).split("."):
            cursor = cursor.get(part) if isinstance(cursor, dict) else None
        return (url, {**params, str(pagination.param): cursor}) if cursor else (None, params)
    if pagination.style == "link":
        following = response.links.get("next", {}).get("url")
        return (urljoin(response.url, following), {}) if following else (None, params)
    return None, params


class _Pace:
    """At most `per_second` requests a second (none: as fast as the API answers)."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1 / per_second if per_second else 0.0
        self._last = 0.0

    def wait(self) -> None:
        pause = self._last + self._interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._last = time.monotonic()
