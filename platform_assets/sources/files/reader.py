"""The `files` kind's reader: CSV, JSON lines or parquet, one file and one batch at a time."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from platform_assets.contracts import with_origin
from platform_assets.errors import RunError
from platform_assets.partitions import Period
from platform_assets.sources.files.readiness import Readiness
from platform_assets.sources.files.spec import FilesRead
from platform_assets.sources.period_filter import rows_in_period
from platform_assets.storage import Store, has_wildcards

_STRADDLES = "straddles two block boundaries"  # pyarrow's words for a field over a block
_COLUMN_COUNT = re.compile(r"Expected (\d+) columns, got (\d+)")
_CONVERSION = re.compile(
    r"In CSV column #(\d+): CSV conversion error to (.+?): invalid value '(.*)'"
)
_NOT_UTF8 = re.compile(r"In CSV column #(\d+): CSV conversion error to string: invalid UTF8 data")
_OTHER_DELIMITERS = (",", ";", "\t", "|")


class SourceFileError(RunError):
    """An upstream file that cannot be read as declared; the message names the file (and line)."""


def read_files(
    spec: FilesRead, period: Period, schema: pa.Schema | None, landing: Store
) -> Iterator[pa.RecordBatch]:
    """The period's rows, file by file, each batch tagged with its file. `schema` types the
    columns it knows; others come as inferred (the schema contract decides about them)."""
    readiness = Readiness(spec.ready, landing)
    paths = readiness.data_files(_files_for(spec, period, landing))
    readiness.wait(paths)
    for path in paths:
        url = landing.url(path)
        for batch in _read_file(spec, path, schema, landing):
            if spec.format == "csv" and batch.num_columns == 1:
                _check_delimiter(batch.schema.names[0], spec.delimiter, url)
            if schema is None:
                schema = batch.schema  # later files parse as the first one did
            batch = with_origin(batch, url)
            if spec.date_column is not None:
                batch = rows_in_period(batch, spec.date_column, period)
            yield batch
        readiness.confirm(path)


def _files_for(spec: FilesRead, period: Period, landing: Store) -> list[str]:
    """The period's files: literal paths as they are (a missing one fails when read), globs
    expanded by a listing."""
    found: dict[str, None] = {}
    for pattern in spec.paths_for(period):
        path = landing.path(pattern)
        found.update(dict.fromkeys(landing.glob(path) if has_wildcards(pattern) else [path]))
    return list(found)


def _read_file(
    spec: FilesRead, path: str, schema: pa.Schema | None, landing: Store
) -> Iterator[pa.RecordBatch]:
    url = landing.url(path)
    try:
        with landing.failures_at(path):
            if spec.format == "csv":
                yield from _read_csv(spec, path, schema, landing)
            elif spec.format == "jsonl":
                yield from _read_jsonl(path, schema, landing)
            else:
                yield from _read_parquet(path, landing)
    except SourceFileError:
        raise
    except FileNotFoundError:
        raise SourceFileError(f"{url}: file not found") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as error:
        if _STRADDLES in str(error):
            raise SourceFileError(
                f"{url}: a field or row larger than read.block_mib ({spec.block_mib} MiB): raise it"
            ) from None
        raise SourceFileError(f"{url}: {_locate(spec, path, schema, landing, error)}") from None
    except OSError as error:
        raise SourceFileError(f"{url}: cannot read ({error})") from None


def _read_csv(
    spec: FilesRead, path: str, schema: pa.Schema | None, landing: Store
) -> Iterator[pa.RecordBatch]:
    parse = pacsv.ParseOptions(delimiter=spec.delimiter)
    blocks = pacsv.ReadOptions(block_size=spec.block_mib << 20)
    convert = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
    if spec.null_values is not None:
        convert.null_values = spec.null_values
    with landing.fs.open_input_stream(path) as stream:
        if schema is None:
            # inference reads the whole first file, so that one early block does not decide alone
            table = pacsv.read_csv(
                stream, read_options=blocks, parse_options=parse, convert_options=convert
            )
            yield from table.to_batches()
            return
        yield from pacsv.open_csv(
            stream,
            read_options=blocks,
            parse_options=parse,
            convert_options=convert,
        )


def _read_jsonl(path: str, schema: pa.Schema | None, landing: Store) -> Iterator[pa.RecordBatch]:
    # pyarrow's JSON reader cannot parse into a `json` column: such columns come as inferred, and
    # the schema contract writes them as JSON text
    explicit = None if schema is None else pa.schema([f for f in schema if f.type != pa.json_()])
    options = pajson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer")
    with landing.fs.open_input_stream(path) as stream:
        yield from pajson.read_json(stream, parse_options=options).to_batches()


def _read_parquet(path: str, landing: Store) -> Iterator[pa.RecordBatch]:
    """Parquet carries its own types; the schema contract compares them with the source's."""
    with landing.fs.open_input_file(path) as handle:
        yield from pq.ParquetFile(handle).iter_batches()


def _check_delimiter(header: str, delimiter: str, url: str) -> None:
    """A file with one column whose name holds another delimiter was split on the wrong one."""
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header:
            raise SourceFileError(
                f"{url}: line 1: one column {header!r}: the delimiter looks like {other!r},"
                f" not {delimiter!r} (read.delimiter)"
            )


def _locate(
    spec: FilesRead, path: str, schema: pa.Schema | None, landing: Store, error: Exception
) -> str:
    """Re-read a file that failed to find the first bad line (only ever on the error path)."""
    cause = " ".join(str(error).split())
    with landing.fs.open_input_stream(path) as stream:
        text = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8", errors="replace")
        if spec.format == "csv":
            located = _locate_csv(text, spec.delimiter, cause)
        elif spec.format == "jsonl":
            located = _locate_jsonl(text, schema)
        else:
            located = None
    return located or cause


def _locate_csv(text: io.TextIOBase, delimiter: str, cause: str) -> str | None:
    rows = csv.reader(text, delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        return "line 1: empty file, expected a header"
    if match := _COLUMN_COUNT.search(cause):
        expected = int(match.group(1))
        for row in rows:
            if len(row) != expected:
                return f"line {rows.line_num}: expected {expected} columns, got {len(row)}"
    elif match := _NOT_UTF8.search(cause):
        index = int(match.group(1))
        for row in rows:
            if index < len(row) and "\ufffd" in row[index]:
                column = _column_name(header, index)
                return f"line {rows.line_num}: column {column}: not UTF-8 (re-encode the file)"
    elif match := _CONVERSION.search(cause):
        index, type_name, value = int(match.group(1)), match.group(2), match.group(3)
        for row in rows:
            if index < len(row) and row[index] == value:
                column = _column_name(header, index)
                return (
                    f"line {rows.line_num}: column {column}: {value!r} is not a valid {type_name}"
                )
    return None


def _column_name(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"#{index + 1}"


def _locate_jsonl(text: io.TextIOBase, schema: pa.Schema | None) -> str | None:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            return f"line {number}: not valid JSON ({error.msg})"
        if not isinstance(record, dict):
            return f"line {number}: expected a JSON object"
        if schema is not None:
            extra = sorted(set(record) - set(schema.names))
            if extra:
                return f"line {number}: unexpected field(s) {', '.join(extra)}"
            try:
                pa.Table.from_pylist([record], schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
                return f"line {number}: {error}"
    return None
