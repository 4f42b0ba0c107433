"""A partition's manifest: its day and data files, each named relative to the lake's root so that
a copied lake (a folder, a bucket prefix) reads from its new place. In memory an entry carries
the file's full URL; a Redshift COPY manifest (`to_copy_json`) carries the same full URLs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ManifestEntry:
    url: str
    content_length: int
    record_count: int


@dataclass(frozen=True)
class Manifest:
    entries: tuple[ManifestEntry, ...]
    day: dt.date

    @property
    def record_count(self) -> int:
        return sum(entry.record_count for entry in self.entries)

    @property
    def content_length(self) -> int:
        return sum(entry.content_length for entry in self.entries)

    @property
    def urls(self) -> list[str]:
        return [entry.url for entry in self.entries]

    def to_json(self, root_url: str) -> bytes:
        """`{"dt", "files": [{"path", "content_length", "record_count"}]}`, each path relative
        to `root_url`."""
        document = {
            "dt": self.day.isoformat(),
            "files": [
                {
                    "path": _relative(entry.url, root_url),
                    "content_length": entry.content_length,
                    "record_count": entry.record_count,
                }
                for entry in self.entries
            ],
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes, root_url: str) -> Manifest:
        document = json.loads(data)
        return cls(
            tuple(
                ManifestEntry(
                    url=root_url + _checked_path(file["path"]),
                    content_length=int(file["content_length"]),
                    record_count=int(file["record_count"]),
                )
                for file in document["files"]
            ),
            dt.date.fromisoformat(document["dt"]),
        )

    def to_copy_json(self) -> bytes:
        """Redshift's COPY manifest (the shape UNLOAD VERBOSE writes), with full URLs."""
        document = {
            "entries": [
                {
                    "url": entry.url,
                    "mandatory": True,
                    "meta": {
                        "content_length": entry.content_length,
                        "record_count": entry.record_count,
                    },
                }
                for entry in self.entries
            ],
            "meta": {"content_length": self.content_length, "record_count": self.record_count},
        }
        return json.dumps(document, indent=1).encode()


def _relative(url: str, root_url: str) -> str:
    if not url.startswith(root_url):
        raise ValueError(f"{url} is not under the lake's root {root_url}")
    return url.removeprefix(root_url)


def _checked_path(path: str) -> str:
    """A manifest names files inside the lake only: no absolute paths, no `..`."""
    if (
        not isinstance(path, str)
        or path.startswith("/")
        or ".." in path.split("/")
        or "://" in path
    ):
        raise ValueError(f"file path {path!r} is not relative to the lake's root")
    return path
