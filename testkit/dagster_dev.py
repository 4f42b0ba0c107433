"""`dagster dev` on a free loopback port, with its own DAGSTER_HOME and PLATFORM_HOME, served
until the code location's assets answer over GraphQL, and stopped with everything it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from platform_assets.settings import PROJECT_DIRECTORY
from testkit.main_process import DAGSTER, local_dagster_environment

ASSET_KEYS = "{ assetNodes { assetKey { path } } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data: dict[str, Any] = json.load(response)["data"]
        return data


@contextmanager
def dagster_dev(
    dagster_home: Path,
    env: Mapping[str, str],
    while_starting: Callable[[], None] = lambda: None,
    timeout: float = 120,
) -> Iterator[int]:
    """Serve `dagster dev` over `dagster_home` with `env` added; yields its port once the assets
    load. `while_starting` runs meanwhile (the server takes tens of seconds to load them)."""
    port = free_port()
    server = subprocess.Popen(
        [DAGSTER, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIRECTORY,
        env={**os.environ, **env, **local_dagster_environment(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so that all of it can be stopped
    )
    try:
        while_starting()
        deadline = time.monotonic() + timeout
        while True:
            assert server.poll() is None, "dagster dev exited"
            assert time.monotonic() < deadline, (
                f"dagster dev did not serve the assets in {timeout} s"
            )
            try:
                if graphql(port, ASSET_KEYS)["assetNodes"]:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=30)
        with suppress(ProcessLookupError):  # its code servers can outlive it
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
