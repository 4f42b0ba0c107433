"""Whether a landing file is complete: its ready marker exists or, without one, its size and
modification time have not changed for `settle_seconds`. S3 objects appear whole, so there a file
only ever waits for its marker."""

from __future__ import annotations

import logging
import posixpath
import time

from platform_assets.backoff import pauses
from platform_assets.errors import RunError
from platform_assets.sources.files.spec import ReadyRule
from platform_assets.storage import FileState, Store

log = logging.getLogger("platform")


class FileNotReadyError(RunError):
    """A landing file still incomplete when the partition may wait no longer."""


class Readiness:
    """The readiness of one partition's files: `wait` before reading them, `confirm` after
    reading each, so that a file that settled and then grew is not published torn."""

    def __init__(self, rule: ReadyRule, landing: Store) -> None:
        self._rule = rule
        self._landing = landing
        self._settled: dict[str, FileState] = {}
        # a file first seen in this state, at this time.monotonic()
        self._seen: dict[str, tuple[FileState, float]] = {}

    def data_files(self, paths: list[str]) -> list[str]:
        """`paths` but the markers among them (a glob may match a file and its marker)."""
        if self._rule.marker is None:
            return paths
        markers = {marker_of(self._rule.marker, path) for path in paths}
        return [path for path in paths if path not in markers]

    def wait(self, paths: list[str]) -> None:
        """Return once every file is ready; FileNotReadyError naming the first that is not once the
        wait is over (a fresh file is watched `settle_seconds` even when the wait is 0)."""
        if self._rule.marker is not None:
            check, watch = self._marker_found, 0.0
        elif self._landing.objects_appear_whole:
            return
        else:
            check, watch = self._has_settled, self._rule.settle_seconds
        deadline = time.monotonic() + watch + self._rule.wait_seconds
        pending = [path for path in paths if not check(path)]
        if pending:
            log.info(
                "waiting up to %g s for %s to be ready (%d file(s) not yet)",
                deadline - time.monotonic(),
                self._landing.url(pending[0]),
                len(pending),
            )
        for pause in pauses(first=0.05, longest=1.0):
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise FileNotReadyError(self._why_not_ready(pending[0]))
            time.sleep(min(pause, left))
            pending = [path for path in pending if not check(path)]

    def confirm(self, path: str) -> None:
        """After a settled file was read: it must not have changed since it settled."""
        settled = self._settled.get(path)
        if settled is None:
            return
        now = self._landing.file_state(path)
        if now != settled:
            raise FileNotReadyError(
                f"{self._landing.url(path)}: changed while it was read ({settled.size} bytes,"
                f" then {now.size}): still being written (read.ready.settle_seconds)"
            )

    def _marker_found(self, path: str) -> bool:
        assert self._rule.marker is not None
        return self._landing.exists(marker_of(self._rule.marker, path))

    def _has_settled(self, path: str) -> bool:
        """Unchanged for settle_seconds, by its modification time or by what was seen of it. A
        missing file counts as ready: reading it says it is not found."""
        try:
            state = self._landing.file_state(path)
        except FileNotFoundError:
            return True
        now = time.monotonic()
        seen, since = self._seen.get(path, (None, now))
        if seen != state:
            since = now
            self._seen[path] = (state, now)
        unchanged = max(time.time() - state.modified, now - since)
        if unchanged < self._rule.settle_seconds:
            return False
        self._settled[path] = state
        return True

    def _why_not_ready(self, path: str) -> str:
        waited = self._rule.wait_seconds
        after = f" after waiting {waited:g} s (read.ready.wait_seconds)" if waited else ""
        if self._rule.marker is not None:
            cause = f"no marker {self._landing.url(marker_of(self._rule.marker, path))}"
        else:
            settle = self._rule.settle_seconds
            cause = f"still being written (changed within {settle:g} s, read.ready.settle_seconds)"
        return f"{self._landing.url(path)}: not ready{after}: {cause}"


def marker_of(marker: str, path: str) -> str:
    """The path of a file's ready marker, `marker` being a template relative to its folder."""
    directory, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    return posixpath.normpath(posixpath.join(directory, marker.format(name=name, stem=stem)))
