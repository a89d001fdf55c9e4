"""Sessions on the catalog: one block or one transaction at a time, retried on conflict.

A session holds this process's lease on the database file (see
:mod:`mlops_lab.catalog.lease`: a flock and a connection kept open between
calls, handed over to waiting processes). Within a process, threads take turns
on one lease. Waiting for the lease (and for any outside tool that has the file
open) uses jittered exponential backoff up to a deadline. Write-write conflicts
(``TransactionException``) are retried the same way by :func:`run_with_retry`.

A workspace the user cannot write (a read-only mount, another user's files)
is opened read-only: reads work, writes raise :class:`ReadOnlyCatalogError`.
Journaled writes (:func:`journaled_write`) are described in
:mod:`mlops_lab.catalog.journal`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from mlops_lab.catalog.faults import (
    READ_ONLY_ERRNOS,
    is_disk_full,
    is_read_only_write,
    translate_error,
)
from mlops_lab.catalog.journal import Memo, Recorder
from mlops_lab.catalog.lease import Lease, lease_for
from mlops_lab.catalog.retry import RetryPolicy
from mlops_lab.errors import (
    CatalogBusyError,
    CatalogDamagedError,
    DiskFullError,
    ReadOnlyCatalogError,
)

__all__ = [
    "bump_generation",
    "forget_memo",
    "journaled_write",
    "open_connection",
    "read_generation",
    "run_transaction",
    "run_with_retry",
]

T = TypeVar("T")


@contextmanager
def open_connection(
    path: Path, policy: RetryPolicy, *, threads: int | None = None, apply_journal: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """This process's connection to ``path``, held exclusively for the block.

    Waits while another process or thread has the file. The connection stays
    open after the block (see the module docstring) unless another process is
    waiting for it, or the block failed in a way that may have broken it.
    ``threads`` caps DuckDB's worker threads (the first caller's choice holds):
    one thread answers small metadata statements fastest on a busy machine.
    """
    start = time.monotonic()
    lease = lease_for(path, threads)
    if not lease.mutex.acquire(timeout=policy.timeout):
        raise CatalogBusyError(path, time.monotonic() - start, "another thread of this process")
    try:
        con = lease.take(policy, start)
        if apply_journal:
            lease.apply_journal()
        lease.depth += 1
        broken = False
        try:
            yield con
        except BaseException as exc:
            broken = not isinstance(exc, Exception) or _breaks_connection(exc)
            raise
        finally:
            lease.depth -= 1
            lease.last_used = time.monotonic()
            if lease.depth == 0 and lease.con is not None:
                lease.settled()
            if lease.depth == 0 and (broken or _should_hand_over(lease)):
                lease.give_back()
    finally:
        lease.mutex.release()


def _should_hand_over(lease: Lease) -> bool:
    busy_for = time.monotonic() - lease.taken_at
    return busy_for >= lease.quantum and lease.waiters.someone_waits()


def journaled_write(
    path: Path,
    policy: RetryPolicy,
    plan: Callable[[Memo, Recorder], T],
    *,
    threads: int | None = None,
) -> T:
    """A durable write whose statements run later (see :mod:`mlops_lab.catalog.journal`).

    ``plan(memo, recorder)`` checks the write against ``memo`` (reads cached
    while this process holds the lease), records its statements on
    ``recorder`` (they must not fail when applied) and updates ``memo`` with
    what it wrote. Returns what ``plan`` returns, once the record is on disk.
    """
    with open_connection(path, policy, threads=threads, apply_journal=False):
        lease = lease_for(path)
        if lease.read_only:
            raise ReadOnlyCatalogError(path, "this process cannot write to it")
        recorder = Recorder()
        try:
            result = plan(lease.memo, recorder)
            if recorder.statements:
                lease.journal.append(recorder.statements)
        except BaseException as exc:
            lease.memo.clear()  # it may hold what was planned but not written
            if isinstance(exc, OSError) and is_disk_full(exc):
                raise DiskFullError(path, exc.strerror or str(exc)) from exc
            raise
        bump_generation(path)
        return result


def _breaks_connection(exc: BaseException) -> bool:
    """Whether the connection may be unusable after ``exc`` (then it is closed, not kept)."""
    if isinstance(exc, duckdb.TransactionException):
        return False
    return isinstance(
        exc,
        duckdb.OperationalError
        | duckdb.FatalException
        | duckdb.InternalError
        | OSError
        | CatalogDamagedError
        | DiskFullError,
    )


def forget_memo(path: Path) -> None:
    """Drop what the journal's memo knows of ``path`` (after a write it did not see)."""
    lease_for(path).memo.clear()


def is_read_only(path: Path) -> bool:
    """Whether this process's current connection to ``path`` is read-only."""
    return lease_for(path).read_only


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
    try:
        fd = os.open(f"{path}.gen", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in READ_ONLY_ERRNOS:
            return  # nothing can have been written either
        raise
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
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
    except duckdb.Error as exc:
        translated = _translate_in_session(path, exc)
        if translated is not None:
            raise translated from exc
        raise
    if write and not is_read_only(path):
        lease_for(path).memo.clear()  # an ordinary write may change what the memo holds
        bump_generation(path)
    return result


def _translate_in_session(path: Path, exc: duckdb.Error) -> BaseException | None:
    if is_read_only_write(exc):
        return ReadOnlyCatalogError(path, "this process cannot write to it")
    return translate_error(path, exc)


def run_with_retry(
    path: Path,
    policy: RetryPolicy,
    work: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    write: bool = True,
    threads: int | None = None,
) -> T:
    """Run ``work(con)`` in one transaction; retry the whole of it on a write conflict.

    ``work`` must only touch the catalog (no side effects outside the
    transaction), since it can run more than once.
    """
    start = time.monotonic()
    delays = policy.delays()
    while True:
        with open_connection(path, policy, threads=threads) as con:
            try:
                return run_transaction(con, path, work, write=write)
            except duckdb.TransactionException as exc:
                waited = time.monotonic() - start
                if waited >= policy.timeout:
                    raise CatalogBusyError(path, waited, str(exc)) from exc
        time.sleep(next(delays))


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # A failed COMMIT has already ended the transaction; nothing to undo then.
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")
