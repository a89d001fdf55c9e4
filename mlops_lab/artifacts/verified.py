"""Verified-at stamps: when a local blob was last found to match its hash.

Hashing a large feature table on every read is slow, so a read may skip it when
the blob is unchanged since it was last verified. A stamp records the blob's
``(size, mtime_ns, ctime_ns, inode, device)`` when its bytes were hashed (on
write, where they are hashed while streamed, or on a read or ``verify``), and
when the stamp was taken. A read trusts a stamp only if

- the blob's stat still matches it exactly (any write changes mtime and ctime;
  ``os.utime`` can restore mtime but not ctime), and
- the stamp was taken at least :data:`RACY_NS` after the blob's mtime, so a
  write in the same timestamp tick as the stamp cannot go unseen (git's "racily
  clean" rule). A racy stamp makes the read hash once and stamp again.

Anything else hashes the blob first. Stamps live in this process (a small
cache) and in ``<artifact root>/.verified/<hash>``, so other processes (CLI
calls, kernels, the model server) share them; a read-only store keeps
in-process stamps only. Stamps are an optimisation: deleting them is safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["RACY_NS", "STAMP_DIR", "StampBook", "hash_file"]

STAMP_DIR = ".verified"
RACY_NS = 2_000_000_000  # covers the coarsest common timestamp tick (FAT's 2 s)
_CHUNK = 1 << 20
_CACHE_LIMIT = 4096
_FORMAT = "mlops-lab-stamp-1"

Stamp = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def _stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def hash_file(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


# path of the stamp file -> (stamp, taken at): shared by every store of this process
_memory: dict[str, tuple[Stamp, int]] = {}


class StampBook:
    """The verified-at stamps of one local artifact folder."""

    def __init__(self, root: Path) -> None:
        self.folder = root / STAMP_DIR

    def _file(self, digest: str) -> Path:
        return self.folder / digest

    def trusted(self, digest: str, st: os.stat_result) -> bool:
        """True when ``st`` (the blob's stat now) matches a non-racy stamp."""
        found = self._load(digest)
        if found is None:
            return False
        stamp, taken = found
        return stamp == _stamp_of(st) and taken - st.st_mtime_ns >= RACY_NS

    def record(self, digest: str, st: os.stat_result) -> None:
        """Remember that the blob with stat ``st`` hashed to ``digest`` just now."""
        stamp, taken = _stamp_of(st), time.time_ns()
        target = self._file(digest)
        if len(_memory) >= _CACHE_LIMIT:
            _memory.clear()
        _memory[str(target)] = (stamp, taken)
        text = f"{_FORMAT} {taken} {' '.join(map(str, stamp))}\n"
        temp = target.with_name(f".{digest}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(exist_ok=True)
            temp.write_text(text, encoding="ascii")
            os.replace(temp, target)
        except OSError:  # a read-only store: the in-process stamp still counts
            temp.unlink(missing_ok=True)

    def forget(self, digests: Iterable[str]) -> None:
        for digest in digests:
            target = self._file(digest)
            _memory.pop(str(target), None)
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)

    def stamped(self) -> list[str]:
        """The hashes that have a stamp file."""
        if not self.folder.is_dir():
            return []
        return [p.name for p in self.folder.iterdir() if not p.name.startswith(".")]

    def _load(self, digest: str) -> tuple[Stamp, int] | None:
        target = self._file(digest)
        found = _memory.get(str(target))
        if found is not None:
            return found
        try:
            fields = target.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return None
        if len(fields) != 7 or fields[0] != _FORMAT or not all(f.isdigit() for f in fields[1:]):
            return None
        taken, *numbers = (int(f) for f in fields[1:])
        stamp: Stamp = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
        _memory[str(target)] = (stamp, taken)
        return stamp, taken
