"""What every benchmark shares: timed child processes, a moto S3 that counts requests, tables."""

from __future__ import annotations

import logging
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit import measured
from testkit.aws import FAKE_AWS

PROJECT = Path(__file__).resolve().parent.parent
PEERS = PROJECT / "bench" / "peers"


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mib: float


def run_measured(
    command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = PROJECT
) -> Sample:
    """Wall time and peak RSS (the command's own ru_maxrss) of one child process."""
    environment = {**os.environ, **(env or {})}
    environment.pop("DAGSTER_PIPES_CONTEXT", None)
    child = measured.run_measured(command, environment, cwd)
    if child.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {child.returncode}:\n{child.output[-3000:]}"
        )
    return Sample(child.seconds, child.peak_rss_mib)


@dataclass
class Variant:
    """One way of doing a case's work; `prepare` runs untimed before each timed run."""

    name: str
    command: Callable[[int], Sequence[str]]
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: Callable[[int], None] | None = None
    samples: list[Sample] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def run(self, number: int) -> Sample:
        if self.prepare:
            self.prepare(number)
        sample = run_measured(self.command(number), self.env)
        self.samples.append(sample)
        return sample

    @property
    def seconds(self) -> float:
        return statistics.median(sample.seconds for sample in self.samples)

    @property
    def seconds_range(self) -> str:
        values = [sample.seconds for sample in self.samples]
        return f"{min(values):.2f}-{max(values):.2f}"

    @property
    def peak_rss_mib(self) -> float:
        return statistics.median(sample.peak_rss_mib for sample in self.samples)

    @property
    def peak_rss_range(self) -> str:
        values = [sample.peak_rss_mib for sample in self.samples]
        return f"{min(values):.0f}-{max(values):.0f}"


def interleave(variants: Sequence[Variant], runs: int, warmup: bool = True) -> None:
    """Each variant `runs` times, round-robin, so that a noisy neighbour slows all alike."""
    if warmup:
        for variant in variants:
            if variant.prepare:
                variant.prepare(-1)
            run_measured(variant.command(-1), variant.env)
    for number in range(runs):
        for variant in variants:
            variant.run(number)
            print(f"  {variant.name}: {variant.samples[-1].seconds:.2f} s", file=sys.stderr)


class CountingMoto:
    """A moto server on a loopback port that counts requests per bucket (path-style addressing),
    so a variant's requests are known exactly, unlike its seconds."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        application = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
            with self._lock:
                self._counts[(bucket, _kind(environ))] += 1
            return application(environ, start_response)

        self._server = make_server(
            "127.0.0.1", 0, counted, threaded=True, request_handler=MotoRequestHandler
        )
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CountingMoto:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
        os.environ.update(FAKE_AWS)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()

    def requests(self, bucket: str) -> Counter[str]:
        """Requests to `bucket` so far, by kind (PUT, LIST, DELETE, GET, HEAD, ...)."""
        with self._lock:
            return Counter(
                {method: n for (name, method), n in self._counts.items() if name == bucket}
            )

    @contextmanager
    def counting(self, bucket: str) -> Iterator[Counter[str]]:
        """Requests to `bucket` while the block runs, by kind (filled in when it ends)."""
        before = self.requests(bucket)
        delta: Counter[str] = Counter()
        yield delta
        delta.update(self.requests(bucket))
        delta.subtract(before)

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")


def _kind(environ: dict[str, Any]) -> str:
    query = environ.get("QUERY_STRING", "")
    method = environ["REQUEST_METHOD"]
    if "/leases/block-" in environ.get("PATH_INFO", ""):
        return "LEASE"  # taking, renewing and giving back a block of partitions (lake/lease.py)
    if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "COPY"  # CopyObject: a replaced file's retired copy (Lake.commit_table)
    if method == "GET" and "list-type" in query:
        return "LIST"
    if method == "POST" and "delete" in query:
        return "DELETE"
    return method


WRITES = ("PUT", "DELETE", "LIST", "POST")  # what publishing costs; GET and HEAD are reads


def run_case(
    measure: Callable[[int, Path], tuple[dict[str, float], str]], doc: str, runs: int = 5
) -> None:
    """A case's script on its own: `--runs N`, a scratch folder, its table and figures printed."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=runs)
    arguments = parser.parse_args()
    os.chdir(PROJECT)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=os.environ.get("BENCH_DIR")) as work:
        figures, table = measure(arguments.runs, Path(work))
    print(table)
    print(figures)


def machine() -> str:
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb
    import pyarrow

    return (
        f"{cores} cores, {memory:.0f} GiB, {platform.platform(terse=True)}, Python"
        f" {platform.python_version()}, pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}"
    )


BUSY_SHARE = 0.15  # of the machine's CPU, taken by others while the benchmarks pause


def machine_busy() -> str | None:
    """A warning if other work shares the machine now (a test suite beside the benchmarks),
    judged by the share of all cores' time in use while this process sleeps for a second; None
    if the machine is quiet."""

    def ticks() -> tuple[int, int]:
        """All CPU time and idle time so far (/proc/stat's first line, in clock ticks)."""
        counts = [int(value) for value in Path("/proc/stat").read_text().split()[1:11]]
        return sum(counts), counts[3] + counts[4]  # idle and iowait

    total, idle = ticks()
    time.sleep(1)
    total_after, idle_after = ticks()
    busy = 1 - (idle_after - idle) / max(total_after - total, 1)
    if busy <= BUSY_SHARE:
        return None
    return (
        f"the machine was busy: {busy:.0%} of its CPU was in use while the benchmarks paused"
        f" (load average {os.getloadavg()[0]:.2f}), so these figures are slower than a quiet"
        " machine's"
    )


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def goal_line(goal: str, measured: str, met: bool) -> tuple[str, str, str]:
    return (goal, measured, "met" if met else "**not met**")
