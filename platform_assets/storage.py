"""A folder on a pyarrow filesystem (a local directory, or an S3 prefix), addressed by URL."""

from __future__ import annotations

import fnmatch
import posixpath
import uuid
from dataclasses import dataclass

import pyarrow.fs as pafs

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Store:
    """`root` is the filesystem path of the folder; `scheme` prefixes it to make URLs."""

    fs: pafs.FileSystem
    root: str
    scheme: str

    @classmethod
    def local(cls, directory: str) -> Store:
        return cls(pafs.LocalFileSystem(), directory.rstrip("/"), "file://")

    def path(self, relative: str) -> str:
        """The filesystem path of `relative` (already absolute paths pass through)."""
        if relative.startswith("/") and self.scheme == "file://":
            return relative
        return posixpath.join(self.root, relative)

    def url(self, path: str) -> str:
        return self.scheme + path

    def path_of_url(self, url: str) -> str:
        if not url.startswith(self.scheme):
            raise ValueError(f"{url} is not on {self.scheme}{self.root}")
        return url.removeprefix(self.scheme)

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type == pafs.FileType.File

    def size(self, path: str) -> int:
        return self.fs.get_file_info(path).size

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as stream:
            return stream.read()

    def put(self, path: str, data: bytes) -> None:
        """Write an object so that readers see the old content or the new, never a mix."""
        parent = posixpath.dirname(path)
        self.fs.create_dir(parent, recursive=True)
        if isinstance(self.fs, pafs.LocalFileSystem):
            temporary = posixpath.join(parent, f".tmp-{uuid.uuid4().hex}")
            with self.fs.open_output_stream(temporary) as stream:
                stream.write(data)
            self.fs.move(temporary, path)
        else:
            with self.fs.open_output_stream(path) as stream:
                stream.write(data)

    def list_files(self, directory: str) -> list[str]:
        """Paths of the files directly inside `directory` (none if it does not exist)."""
        selector = pafs.FileSelector(directory, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(info.path for info in infos if info.type == pafs.FileType.File)

    def glob(self, pattern: str) -> list[str]:
        """Files matching a path with * ? [] wildcards (a path without any must exist to match)."""
        parts = pattern.split("/")
        fixed = []
        for part in parts:
            if _GLOB_CHARS & set(part):
                break
            fixed.append(part)
        if len(fixed) == len(parts):
            return [pattern] if self.exists(pattern) else []
        base = "/".join(fixed) or "/"
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        depth = len(parts)
        return sorted(
            info.path
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
            and len(info.path.split("/")) == depth
            and fnmatch.fnmatchcase(info.path, pattern)
        )
