"""Short-lived DuckDB connections with retry on lock conflicts.

DuckDB lets one process at a time open a database file read-write. Kernels,
the Jupyter server, the CLI and parallel pipeline stages all share the
catalog, so every operation opens the file, runs one short transaction and
closes it again.

DuckDB's own file lock is not enough to serialise processes that open and
close the file in quick succession: measured here with 4 processes x 60
open-insert-close cycles, a writer could read a half-checkpointed file
("Could not read enough bytes") or lose a committed row. So every session
first takes an exclusive ``flock`` on a sidecar ``<catalog>.lock`` file, held
from before ``duckdb.connect`` until after ``close`` returns; waiting for it
(and for any outside tool that has the file open) uses jittered exponential
backoff up to a deadline. Within one process, write-write conflicts
(``TransactionException``) are retried the same way by :func:`run_with_retry`.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from mlops_lab.errors import CatalogBusyError, NotACatalogError

__all__ = [
    "RetryPolicy",
    "bump_generation",
    "open_connection",
    "read_generation",
    "run_transaction",
    "run_with_retry",
]

T = TypeVar("T")

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long to keep trying when the catalog is busy.

    ``timeout`` defaults to the ``MLOPS_LAB_CATALOG_TIMEOUT`` environment
    variable (seconds), else 60 s.
    """

    timeout: float = float(os.environ.get("MLOPS_LAB_CATALOG_TIMEOUT", "60"))
    first_delay: float = 0.002
    max_delay: float = 0.2

    def delays(self) -> Iterator[float]:
        """Full-jitter exponential backoff: random sleeps in growing windows."""
        window = self.first_delay
        while True:
            yield random.uniform(0, window)
            window = min(window * 2, self.max_delay)


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _LOCK_MARKERS)


def _is_not_duckdb(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.IOException) and (
        "not a valid DuckDB database file" in text or "invalid database header" in text.lower()
    )


@contextmanager
def _session_lock(path: Path, policy: RetryPolicy, start: float) -> Iterator[None]:
    """Hold an exclusive flock on ``<path>.lock`` (threads and processes alike)."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        delays = policy.delays()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= policy.timeout:
                    raise CatalogBusyError(path, waited, "another mlops-lab session") from None
                time.sleep(next(delays))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _connect(path: Path, policy: RetryPolicy, start: float) -> duckdb.DuckDBPyConnection:
    delays = policy.delays()
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as exc:
            if _is_not_duckdb(exc):
                raise NotACatalogError(path, "not a valid DuckDB database file") from exc
            if not _is_lock_error(exc):
                raise
            # Another program (not going through mlops-lab) has the file open.
            waited = time.monotonic() - start
            if waited >= policy.timeout:
                raise CatalogBusyError(path, waited, str(exc).split(". See also")[0]) from exc
            time.sleep(next(delays))


@contextmanager
def open_connection(path: Path, policy: RetryPolicy) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path`` read-write, waiting while anyone else holds it; always close."""
    start = time.monotonic()
    with _session_lock(path, policy, start):
        con = _connect(path, policy, start)
        try:
            yield con
        finally:
            con.close()


def read_generation(path: Path) -> int:
    """The catalog's write counter (``<catalog>.gen``), bumped after every committed write.

    Reading it costs a few microseconds, so in-process caches can check it
    on every lookup instead of opening the catalog.
    """
    try:
        fd = os.open(f"{path}.gen", os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        return int.from_bytes(os.pread(fd, 8, 0) or b"\0", "little")
    finally:
        os.close(fd)


def bump_generation(path: Path) -> None:
    """Count a committed write; call while holding the session lock."""
    fd = os.open(f"{path}.gen", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        current = int.from_bytes(os.pread(fd, 8, 0) or b"\0", "little")
        os.pwrite(fd, (current + 1).to_bytes(8, "little"), 0)
    finally:
        os.close(fd)


def run_transaction(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    work: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    write: bool = True,
) -> T:
    """``work(con)`` in one transaction on an open session; counts the write on commit."""
    con.execute("BEGIN TRANSACTION")
    try:
        result = work(con)
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    if write:
        bump_generation(path)
    return result


def run_with_retry(
    path: Path,
    policy: RetryPolicy,
    work: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    write: bool = True,
) -> T:
    """Run ``work(con)`` in one transaction; retry the whole of it on a write conflict.

    ``work`` must only touch the catalog (no side effects outside the
    transaction), since it can run more than once.
    """
    start = time.monotonic()
    delays = policy.delays()
    while True:
        with open_connection(path, policy) as con:
            try:
                return run_transaction(con, path, work, write=write)
            except duckdb.TransactionException as exc:
                waited = time.monotonic() - start
                if waited >= policy.timeout:
                    raise CatalogBusyError(path, waited, str(exc)) from exc
        time.sleep(next(delays))


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # A failed COMMIT has already ended the transaction; nothing to undo then.
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")
