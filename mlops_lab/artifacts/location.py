"""Where blobs live: a folder or object-store prefix addressed through fsspec.

:class:`BlobLocation` is the only place that touches the storage backend. It
takes any fsspec URL (a plain path, ``file://``, ``memory://``, ``s3://`` with
s3fs installed, ...), so an object store can be plugged in through the
workspace setting ``artifact_store`` without touching callers.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

try:
    import fcntl
except ImportError:  # Windows: stale temp files are recognised by age alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["BlobLocation"]

_TEMP_DIR = "tmp"
_PREFIX = re.compile(r"[0-9a-f]{2}")
_NAME = re.compile(r"[0-9a-f]{64}")


class BlobLocation:
    """Keys (``ab/abcdef...``) mapped to objects under one root URL."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = root.rstrip("/")
        self.is_local = isinstance(fs, LocalFileSystem)

    def __repr__(self) -> str:
        return f"BlobLocation({self.url!r})"

    def _full(self, key: str) -> str:
        return f"{self.root}/{key}"

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._full(key)))

    def size(self, key: str) -> int:
        return int(self.fs.size(self._full(key)))

    def open_read(self, key: str) -> IO[bytes]:
        return self.fs.open(self._full(key), "rb")  # type: ignore[no-any-return]

    def local_path(self, key: str) -> Path | None:
        """The file's path when the location is a local folder, else None."""
        return Path(self._full(key)) if self.is_local else None

    def begin_write(self) -> _TempBlob:
        """Start writing a new blob under a temporary, never-read name."""
        return _TempBlob(self)

    def remove_stale_temps(self, older_than: float) -> int:
        """Delete temp files left by killed writers; return how many.

        A temp file counts as stale once unchanged for ``older_than`` seconds; on a
        local folder one that a live writer still holds locked is kept whatever its age.
        """
        temp_root = self._full(_TEMP_DIR)
        if not self.fs.exists(temp_root):
            return 0
        removed = 0
        now = time.time()
        for info in self.fs.ls(temp_root, detail=True):
            if now - _modified(info, now) < older_than or _held_by_writer(self, info["name"]):
                continue
            try:
                self.fs.rm(info["name"])
            except FileNotFoundError:  # published or swept meanwhile
                continue
            removed += 1
        return removed

    def blob_keys(self) -> Iterator[str]:
        """Every blob key (``ab/abcdef...``) present, temp files and stamps excluded."""
        if not self.fs.exists(self.root):
            return
        for folder in self.fs.ls(self.root, detail=True):
            prefix = folder["name"].rstrip("/").rsplit("/", 1)[-1]
            if folder["type"] != "directory" or not _PREFIX.fullmatch(prefix):
                continue
            for entry in self.fs.ls(folder["name"], detail=False):
                name = entry.rstrip("/").rsplit("/", 1)[-1]
                if _NAME.fullmatch(name) and name.startswith(prefix):
                    yield f"{prefix}/{name}"

    def stat(self, key: str) -> tuple[int, float]:
        """The blob's size and when it was last modified (seconds since the epoch)."""
        info = self.fs.info(self._full(key))
        return int(info.get("size") or 0), _modified(info, time.time())

    def remove(self, key: str) -> None:
        self.fs.rm(self._full(key))


def _modified(info: dict[str, Any], default: float) -> float:
    """An fsspec listing entry's modification time (backends name and type it differently)."""
    modified = info.get("mtime") or info.get("created") or default
    if hasattr(modified, "timestamp"):
        modified = modified.timestamp()
    return float(modified)


def _held_by_writer(location: BlobLocation, path: str) -> bool:
    """True when a live writer holds the local temp file's lock (see :class:`_TempBlob`)."""
    if not location.is_local or fcntl is None:
        return False
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    return False


class _TempBlob:
    """A blob being written: chunks go to a temp name, :meth:`publish` renames it.

    Readers only ever look at final keys, so a writer killed at any point
    leaves nothing visible but a temp file, removed later by
    :meth:`BlobLocation.remove_stale_temps`. On a local folder the writer holds
    an advisory lock on its temp file while it lives, so a slow writer's file is
    never swept; the kernel drops the lock of a killed one.
    """

    def __init__(self, location: BlobLocation) -> None:
        self._location = location
        self._fs = location.fs
        temp_root = location._full(_TEMP_DIR)
        self._fs.makedirs(temp_root, exist_ok=True)
        self.temp_path = f"{temp_root}/{uuid.uuid4().hex}.part"
        self._handle: IO[bytes]
        if location.is_local:
            self._handle = open(self.temp_path, "wb")  # noqa: SIM115 - closed by publish/discard
            if fcntl is not None:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
        else:
            self._handle = self._fs.open(self.temp_path, "wb")

    def write(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self._handle.write(chunk)

    def publish(self, key: str, *, overwrite: bool = False) -> bool:
        """Move the finished blob to ``key``; return False if it was already there.

        ``overwrite`` replaces a blob already there (one found damaged).
        """
        self._flush_and_close()
        final = self._location._full(key)
        if not overwrite and self._fs.exists(final):
            self.discard()
            return False
        self._fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        if self._location.is_local:
            # os.replace is atomic on one filesystem: the key appears whole or not at all.
            # Content is addressed by hash, so replacing a racing writer's identical blob is safe.
            os.replace(self.temp_path, final)
        else:
            self._fs.mv(self.temp_path, final)
        return True

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        if self._fs.exists(self.temp_path):
            self._fs.rm(self.temp_path)

    def _flush_and_close(self) -> None:
        self._handle.flush()
        if self._location.is_local:
            os.fsync(self._handle.fileno())
        self._handle.close()
