"""What a low-level failure on a DuckDB file means: busy, not DuckDB, damaged, read-only, full.

:mod:`mlops_lab.catalog.lease` and :mod:`mlops_lab.catalog.connection` ask
these questions while they open and use a file, and raise the matching
mlops-lab error (one line, with what to do) instead of DuckDB's own.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb

from mlops_lab.errors import CatalogDamagedError, DiskFullError, NotACatalogError

__all__ = [
    "READ_ONLY_ERRNOS",
    "check_complete",
    "file_identity",
    "has_wal",
    "is_disk_full",
    "is_lock_error",
    "is_permission_error",
    "is_read_only_write",
    "translate_error",
]

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")
_DAMAGE_MARKERS = (
    "Could not read enough bytes",
    "database file is corrupt",
    "Corrupt database file",
    "block checksum",
    "Checksum mismatch",
    "Failed to load metadata",
    "INTERNAL Error",
)
READ_ONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _LOCK_MARKERS)


def is_not_duckdb(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.IOException) and (
        "not a valid DuckDB database file" in text or "invalid database header" in text.lower()
    )


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, duckdb.Error) and "No space left on device" in str(exc)


def is_damage(exc: BaseException) -> bool:
    if isinstance(exc, duckdb.InternalException | duckdb.SerializationException):
        return True
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in _DAMAGE_MARKERS)


def is_read_only_write(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and "read-only mode" in str(exc)


def translate_error(path: Path, exc: BaseException) -> BaseException | None:
    """The mlops-lab error for a low-level failure on ``path``, or None to re-raise as is."""
    if is_disk_full(exc):
        return DiskFullError(path, str(exc).splitlines()[0])
    if is_not_duckdb(exc):
        return NotACatalogError(path, "not a valid DuckDB database file")
    if is_damage(exc):
        return CatalogDamagedError(path, str(exc).splitlines()[0])
    return None


# -- the lease ------------------------------------------------------------------


def has_wal(path: Path) -> bool:
    try:
        return os.stat(f"{path}.wal").st_size > 0
    except OSError:
        return False


_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers


def check_complete(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a file too short to hold the blocks in use (truncated by a copy, a full disk).

    DuckDB opens such a file and fails only when a query reaches a missing
    block, so a damaged catalog could answer some questions and not others.
    """
    row = con.execute(
        "SELECT block_size, used_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchone()
    if row is None:
        return
    needed = _HEADER_BYTES + int(row[0]) * int(row[1])
    actual = os.stat(path).st_size
    if actual < needed:
        con.close()
        raise CatalogDamagedError(
            path, f"the file is {actual:,} bytes but its blocks need {needed:,}: truncated"
        )


def is_permission_error(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.IOException) and (
        "Permission denied" in text or "Read-only file system" in text
    )


def file_identity(path: Path) -> tuple[int, ...] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
