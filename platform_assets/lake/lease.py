"""Leases on blocks of a dataset's partitions, so that two runs over the same partitions never
write at once: the later one waits for the earlier, then fails naming it.

A block is `chunk` consecutive partitions counted from the source's start (`Partitioned.blocks`:
the partitions one Batch job of a fanned-out backfill takes), so the jobs of one backfill never
wait for each other while a second run over any of their partitions does. A run takes its
range's blocks in order (no deadlock) and holds them until it ends.

Locally a block is an flock()ed file: the kernel releases it when its process dies, and its
holder removes it when done (a waiter that then holds a removed file's lock tries again). On S3
it is an object created only if absent (If-None-Match); its holder renews it every third of its time
to live (If-Match on its own ETag), and a block whose holder died is taken over once it expired,
again with If-Match, so that only one of several waiting runs gets it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import posixpath
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from platform_assets.backoff import pauses
from platform_assets.errors import RunError
from platform_assets.storage import LocalStore, S3Store, Store


@dataclass(frozen=True)
class Holder:
    run_id: str
    host: str
    pid: int
    since: float
    expires: float

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since))
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {started})"


def block_names(blocks: Iterable[int]) -> list[str]:
    """The lease objects of these blocks, in the order every run takes them."""
    return [f"block-{block:05d}" for block in sorted(set(blocks))]


@contextlib.contextmanager
def leased(
    store: Store, directory: str, blocks: Sequence[str], run_id: str, wait: float, ttl: float
) -> Iterator[None]:
    """Hold `blocks` (lease files in `directory`) while the block runs."""
    deadline = time.monotonic() + wait
    with contextlib.ExitStack() as held:
        for block in blocks:
            path = posixpath.join(directory, block)
            if isinstance(store, S3Store):
                held.enter_context(_s3_lease(store, path, run_id, deadline, ttl))
            elif isinstance(store, LocalStore):
                held.enter_context(_local_lease(path, run_id, deadline))
            else:
                raise TypeError(f"no lease for {type(store).__name__}")
        yield


def _holder(run_id: str, ttl: float) -> Holder:
    now = time.time()
    return Holder(run_id, socket.gethostname(), os.getpid(), now, now + ttl)


def _waited_too_long(path: str, holder: Holder | None, wait_started: float) -> RunError:
    who = holder.describe() if holder else "another run"
    return RunError(
        f"{path}: {who} holds these partitions; waited {time.monotonic() - wait_started:.0f} s"
        " (PLATFORM_LEASE_WAIT_SECONDS)"
    )


@contextlib.contextmanager
def _local_lease(path: str, run_id: str, deadline: float) -> Iterator[None]:
    started = time.monotonic()
    waits = pauses()
    while True:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        file = Path(path).open("a+")  # noqa: SIM115 (held open past this loop, closed below)
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_local(file)
            file.close()
            if time.monotonic() > deadline:
                raise _waited_too_long(path, holder, started) from None
            time.sleep(next(waits))
            continue
        if _still_at(file, path):
            break
        file.close()  # its holder removed it while this run waited: take the new one
    try:
        file.seek(0)
        file.truncate()
        file.write(json.dumps(asdict(_holder(run_id, 0))))
        file.flush()
        yield
    finally:
        Path(path).unlink(missing_ok=True)  # before the lock goes, so no waiter keeps a stale one
        file.close()


def _still_at(file: IO[str], path: str) -> bool:
    try:
        return Path(path).stat().st_ino == os.fstat(file.fileno()).st_ino
    except FileNotFoundError:
        return False


def _read_local(file: IO[str]) -> Holder | None:
    file.seek(0)
    try:
        return Holder(**json.loads(file.read()))
    except (ValueError, TypeError):
        return None


@contextlib.contextmanager
def _s3_lease(
    store: S3Store, path: str, run_id: str, deadline: float, ttl: float
) -> Iterator[None]:
    started = time.monotonic()
    waits = pauses()
    while True:
        holder = _holder(run_id, ttl)
        tag = store.put_if(path, json.dumps(asdict(holder)).encode(), absent=True)
        if tag is not None:
            break
        current = store.read_tagged(path)
        if current is not None:
            data, current_tag = current
            other = Holder(**json.loads(data))
            if other.expires < time.time():  # its run died: one taker wins, by ETag
                tag = store.put_if(path, json.dumps(asdict(holder)).encode(), match=current_tag)
                if tag is not None:
                    break
            elif time.monotonic() > deadline:
                raise _waited_too_long(store.url(path), other, started)
        time.sleep(next(waits))
    renewal = _Renewal(store, path, run_id, tag, ttl)
    renewal.start()
    try:
        yield
    finally:
        renewal.stop()
        store.delete_if(path, renewal.tag)
        if renewal.lost:
            raise RunError(
                f"{store.url(path)}: the lease expired and another run took it over while this"
                " one wrote; rerun to make sure the partitions hold this run's version"
            )


class _Renewal(threading.Thread):
    """Moves the lease's expiry forward every third of its time to live."""

    def __init__(self, store: S3Store, path: str, run_id: str, tag: str, ttl: float) -> None:
        super().__init__(daemon=True)
        self._store, self._path, self._run_id, self._ttl = store, path, run_id, ttl
        self._stopped = threading.Event()
        self.tag: str = tag
        self.lost = False

    def run(self) -> None:
        while not self._stopped.wait(self._ttl / 3):
            data = json.dumps(asdict(_holder(self._run_id, self._ttl))).encode()
            try:
                tag = self._store.put_if(self._path, data, match=self.tag)
            except RunError:
                continue  # S3 failed even after its retries: the next renewal tries again
            if tag is None:
                self.lost = True
                return
            self.tag = tag

    def stop(self) -> None:
        self._stopped.set()
        self.join()
