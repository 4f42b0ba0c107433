"""A folder on a pyarrow filesystem (a local directory, or an S3 prefix), addressed by URL."""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import posixpath
import re
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from platform_assets.errors import RunError

# Attempts per S3 request, the first included, for boto3 and pyarrow alike. Both retry 500, 503
# (SlowDown), throttling and dropped connections after a random share of a doubling delay (up to
# 1, 2, 4, 8 s; boto3's is 50, 100, 200, 400 ms unless throttled); other errors (403,
# NoSuchBucket, …) fail at once.
REQUEST_ATTEMPTS = 5
CONNECT_TIMEOUT_SECONDS = 10
INCOMING = ".incoming"  # a local store's temporaries, below its root
_GLOB_CHARS = frozenset("*?[")
_FOOTER_READ = 64 * 1024  # enough for a parquet footer of a few hundred columns
# pyarrow's S3 errors end "AWS Error ACCESS_DENIED during GetObject operation: Access Denied"
_PYARROW_S3_ERROR = re.compile(
    r"AWS Error (?P<code>\w+) during (?P<operation>\w+) operation: (?P<message>.*?)"
    r"\s*(?:\(Request ID: [^)]*\))?$"
)
_CONCURRENT_REQUESTS = 16
# a conditional write lost: the condition failed, or a concurrent conditional write won
_CONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
_T = TypeVar("_T")
_R = TypeVar("_R")


def map_concurrently(function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """`function` over `items` in threads, in order: for many small reads that each wait on I/O."""
    with ThreadPoolExecutor(_CONCURRENT_REQUESTS) as pool:
        return list(pool.map(function, items))


def map_in_order(function: Callable[[_T], _R], items: Iterable[_T], threads: int) -> Iterator[_R]:
    """`function` over `items`, up to `threads` at a time, yielding results in order. At the
    first failure (in order) nothing more starts, and it is raised once the running ones end."""
    if threads <= 1:
        yield from map(function, items)
        return
    remaining = iter(items)
    with ThreadPoolExecutor(threads) as pool:
        pending: deque[Future[_R]] = deque(
            pool.submit(function, item) for item in itertools.islice(remaining, threads)
        )
        while pending:
            try:
                result = pending.popleft().result()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
            pending.extend(pool.submit(function, item) for item in itertools.islice(remaining, 1))
            yield result


def has_wildcards(pattern: str) -> bool:
    return bool(_GLOB_CHARS & set(pattern))


@dataclass(frozen=True)
class FileState:
    """What a listing tells of a file: its size and last modification (seconds since the epoch)."""

    size: int
    modified: float


class Store(ABC):
    """Reads go through pyarrow's filesystem (S3's whole-object reads through boto3); writes are
    whole objects, each in one request."""

    fs: pafs.FileSystem
    root: str
    scheme: str
    objects_appear_whole: ClassVar[bool] = False
    """Whether a reader can only ever see an object whole (S3), never one still being written."""

    def path(self, location: str) -> str:
        """The filesystem path of a location: relative to the root, or a URL/path of this store."""
        if location.startswith(self.scheme):
            return self.path_of_url(location)
        return posixpath.join(self.root, location)

    def url(self, path: str) -> str:
        return self.scheme + path

    def path_of_url(self, url: str) -> str:
        if not url.startswith(self.scheme):
            raise ValueError(f"{url} is not a {self.scheme} URL")
        return url.removeprefix(self.scheme)

    def failures_at(self, path: str) -> AbstractContextManager[None]:
        """Around requests about `path`: a storage error becomes a RunError naming its URL (a
        missing object stays FileNotFoundError)."""
        return contextlib.nullcontext()

    def exists(self, path: str) -> bool:
        with self.failures_at(path):
            return self.fs.get_file_info(path).type == pafs.FileType.File

    def size(self, path: str) -> int:
        return self.file_state(path).size

    def file_state(self, path: str) -> FileState:
        with self.failures_at(path):
            info = self.fs.get_file_info(path)
        if info.type != pafs.FileType.File:
            raise FileNotFoundError(self.url(path))
        return FileState(size=int(info.size), modified=info.mtime_ns / 1e9)

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as stream:
            return stream.read()

    def parquet_schema(self, path: str, size: int) -> pa.Schema:
        """The schema in a parquet file's footer, the file's size being known."""
        return pq.read_schema(path, filesystem=self.fs)

    def read_if_exists(self, path: str) -> bytes | None:
        """The object's content, or None if there is none (one request either way)."""
        try:
            return self.read_bytes(path)
        except FileNotFoundError:
            return None

    def list_files(self, directory: str, recursive: bool = False) -> list[str]:
        """Paths of the files inside `directory` (none if it does not exist)."""
        # not allow_not_found: on S3 it would also take a missing bucket for an empty folder
        selector = pafs.FileSelector(directory, recursive=recursive)
        try:
            with self.failures_at(directory):
                infos = self.fs.get_file_info(selector)
        except FileNotFoundError:
            return []
        return sorted(info.path for info in infos if info.type == pafs.FileType.File)

    def list_prefix(self, prefix: str) -> list[str]:
        """Paths of the files below `prefix`, a path that may end inside a name ('…/dt=2013-')."""
        below = self.list_files(posixpath.dirname(prefix), recursive=True)
        return [path for path in below if path.startswith(prefix)]

    def glob(self, pattern: str) -> list[str]:
        """Files matching a path with * ? [] wildcards (a path without any must exist to match)."""
        parts = pattern.split("/")
        fixed = []
        for part in parts:
            if has_wildcards(part):
                break
            fixed.append(part)
        if len(fixed) == len(parts):
            return [pattern] if self.exists(pattern) else []
        base = "/".join(fixed) or "/"
        return [
            path
            for path in self.list_files(base, recursive=True)
            if len(path.split("/")) == len(parts) and fnmatch.fnmatchcase(path, pattern)
        ]

    @abstractmethod
    def put(self, path: str, data: bytes) -> None:
        """Write an object so that readers see the old content or the new, never a mix."""

    @abstractmethod
    def delete(self, paths: Iterable[str]) -> None: ...

    @abstractmethod
    def move(self, source: str, destination: str) -> None: ...

    @abstractmethod
    def copy(self, source: str, destination: str) -> None: ...


class LocalStore(Store):
    def __init__(self, directory: str) -> None:
        self.fs = pafs.LocalFileSystem()
        self.root = directory.rstrip("/")
        self.scheme = "file://"

    def path(self, location: str) -> str:
        return location if location.startswith("/") else super().path(location)

    def put(self, path: str, data: bytes) -> None:
        """Written aside, then renamed into place. The temporary lives in the root's
        `.incoming/`, never in the file's folder, where a directory reader would list it (a
        killed run's stays there)."""
        inside = path.startswith(self.root + "/")
        incoming = posixpath.join(self.root, INCOMING) if inside else posixpath.dirname(path)
        self.fs.create_dir(posixpath.dirname(path), recursive=True)
        self.fs.create_dir(incoming, recursive=True)
        temporary = posixpath.join(incoming, f".tmp-{uuid.uuid4().hex}")
        try:
            with self.fs.open_output_stream(temporary) as stream:
                stream.write(data)
            self.fs.move(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self.fs.delete_file(temporary)
            raise

    def delete(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.fs.delete_file(path)

    def move(self, source: str, destination: str) -> None:
        self.fs.create_dir(posixpath.dirname(destination), recursive=True)
        self.fs.move(source, destination)

    def copy(self, source: str, destination: str) -> None:
        """A second name for the file (a hard link: no bytes copied); its content never changes,
        as every lake file is written once."""
        self.fs.create_dir(posixpath.dirname(destination), recursive=True)
        Path(destination).hardlink_to(source)


class S3Store(Store):
    """`root` is 'bucket/prefix'. Writes use boto3: one PutObject per object, no directory
    markers, no multipart upload for small files (pyarrow's output streams do both). The boto3
    client should retry as the filesystem does (`REQUEST_ATTEMPTS`, settings.Aws.client)."""

    objects_appear_whole = True

    def __init__(self, uri: str, region: str, endpoint_url: str | None, client: Any) -> None:
        self.root = s3_root(uri)
        options: dict[str, Any] = {
            "region": region,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=REQUEST_ATTEMPTS),
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }
        if endpoint_url:
            scheme, _, address = endpoint_url.partition("://")
            options |= {"endpoint_override": address, "scheme": scheme}
        self.fs = pafs.S3FileSystem(**options)
        self.scheme = "s3://"
        self._client = client

    @contextlib.contextmanager
    def failures_at(self, path: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise
        except (BotoCoreError, ClientError, OSError) as error:
            raise RunError(f"{self.url(path)}: {_s3_cause(error)}") from None

    def read_bytes(self, path: str) -> bytes:
        """One GetObject. pyarrow's ranged GET cannot retry a 5xx whose error document is
        larger than the object (a manifest): the AWS SDK fails to buffer it, INTERNAL_FAILURE."""
        bucket, key = _split(path)
        with self.failures_at(path):
            try:
                return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except self._client.exceptions.NoSuchKey:
                raise FileNotFoundError(self.url(path)) from None

    def parquet_schema(self, path: str, size: int) -> pa.Schema:
        """One ranged GET of the file's tail (pyarrow would HEAD, then GET the footer)."""
        with self.failures_at(path):
            tail = self._read_range(path, max(0, size - _FOOTER_READ))
            footer = int.from_bytes(tail[-8:-4], "little") + 8
            if footer > len(tail):  # a footer larger than the guess: read exactly it
                tail = self._read_range(path, size - footer)
            return pq.read_schema(pa.BufferReader(tail))

    def _read_range(self, path: str, start: int) -> bytes:
        bucket, key = _split(path)
        response = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-")
        return response["Body"].read()

    def exists(self, path: str) -> bool:
        """One HEAD (pyarrow also lists, to tell a missing file from a directory)."""
        bucket, key = _split(path)
        with self.failures_at(path):
            try:
                self._client.head_object(Bucket=bucket, Key=key)
            except ClientError as error:
                if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                    return False
                raise
        return True

    def list_prefix(self, prefix: str) -> list[str]:
        """One request per 1,000 keys, however many directories the prefix spans."""
        bucket, key_prefix = _split(prefix)
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=key_prefix
        )
        with self.failures_at(prefix):
            return sorted(
                f"{bucket}/{item['Key']}"
                for page in pages
                for item in page.get("Contents", [])
                if not item["Key"].endswith("/")
            )

    def put_if(
        self, path: str, data: bytes, absent: bool = False, match: str | None = None
    ) -> str | None:
        """Write only if no object is there (`absent`) or if it is still the version with ETag
        `match`: the new ETag, or None if the condition failed (S3 decides atomically)."""
        bucket, key = _split(path)
        condition = {"IfNoneMatch": "*"} if absent else {"IfMatch": match}
        with self.failures_at(path):
            try:
                response = self._client.put_object(Bucket=bucket, Key=key, Body=data, **condition)
            except ClientError as error:
                if error.response["Error"]["Code"] in _CONDITION_FAILED:
                    return None
                raise
        return response["ETag"]

    def read_tagged(self, path: str) -> tuple[bytes, str] | None:
        """The object's content and ETag, or None if there is none."""
        bucket, key = _split(path)
        with self.failures_at(path):
            try:
                response = self._client.get_object(Bucket=bucket, Key=key)
            except self._client.exceptions.NoSuchKey:
                return None
            return response["Body"].read(), response["ETag"]

    def delete_if(self, path: str, match: str) -> None:
        """Delete the object if it is still the version with ETag `match`."""
        bucket, key = _split(path)
        with self.failures_at(path):
            try:
                self._client.delete_object(Bucket=bucket, Key=key, IfMatch=match)
            except ClientError as error:
                if error.response["Error"]["Code"] not in (*_CONDITION_FAILED, "NoSuchKey"):
                    raise

    def put(self, path: str, data: bytes) -> None:
        bucket, key = _split(path)
        with self.failures_at(path):
            self._client.put_object(Bucket=bucket, Key=key, Body=data)

    def delete(self, paths: Iterable[str]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for path in paths:
            bucket, key = _split(path)
            by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            for start in range(0, len(keys), 1000):
                batch = keys[start : start + 1000]
                objects = [{"Key": key} for key in batch]
                with self.failures_at(f"{bucket}/{posixpath.commonpath(batch)}"):
                    self._client.delete_objects(Bucket=bucket, Delete={"Objects": objects})

    def move(self, source: str, destination: str) -> None:
        self.copy(source, destination)
        self.delete([source])

    def copy(self, source: str, destination: str) -> None:
        """One CopyObject: S3 copies the bytes on its side (FileNotFoundError: no source)."""
        source_bucket, source_key = _split(source)
        bucket, key = _split(destination)
        with self.failures_at(destination):
            try:
                self._client.copy_object(
                    Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}
                )
            except self._client.exceptions.NoSuchKey:
                raise FileNotFoundError(self.url(source)) from None


def s3_root(uri: str) -> str:
    """'bucket/prefix' of an s3://bucket/prefix URI; ValueError if it is none."""
    root = uri.removeprefix("s3://").rstrip("/")
    if not uri.startswith("s3://") or not root.partition("/")[0]:
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix URI")
    return root


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    return bucket, key


def _s3_cause(error: Exception) -> str:
    """One line: the S3 error code, the HTTP status if known, the operation, S3's message."""
    text = " ".join(str(error).split())
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        metadata = error.response.get("ResponseMetadata", {})
        what = (
            f"{details.get('Code', 'Unknown')} ({metadata.get('HTTPStatusCode')})"
            f" on {error.operation_name}"
        )
        message = details.get("Message", "")
        if metadata.get("MaxAttemptsReached"):
            message += f" (after {metadata['RetryAttempts'] + 1} attempts)"
    elif match := _PYARROW_S3_ERROR.search(text):
        what = f"{match['code'].title().replace('_', '')} on {match['operation']}"
        message = match["message"].removesuffix("No response body.").rstrip()
    else:
        return text
    return f"{what}: {message}" if message else what
