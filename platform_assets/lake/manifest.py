"""A partition's manifest: the list of its data files, in Redshift's COPY manifest format."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ManifestEntry:
    url: str
    content_length: int
    record_count: int


@dataclass(frozen=True)
class Manifest:
    """`{"entries": [{"url", "mandatory", "meta"}], "meta"}`, the shape UNLOAD VERBOSE writes."""

    entries: tuple[ManifestEntry, ...]

    @property
    def record_count(self) -> int:
        return sum(entry.record_count for entry in self.entries)

    @property
    def content_length(self) -> int:
        return sum(entry.content_length for entry in self.entries)

    @property
    def urls(self) -> list[str]:
        return [entry.url for entry in self.entries]

    def to_json(self) -> bytes:
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

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        document = json.loads(data)
        return cls(
            tuple(
                ManifestEntry(
                    url=entry["url"],
                    content_length=int(entry["meta"]["content_length"]),
                    record_count=int(entry["meta"]["record_count"]),
                )
                for entry in document["entries"]
            )
        )
