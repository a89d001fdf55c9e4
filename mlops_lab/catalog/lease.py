"""This process's lease on a DuckDB database file: a flock and a connection kept open.

DuckDB lets one process at a time open a database file read-write. Kernels,
the Jupyter server, the CLI and parallel pipeline stages all share the
catalog, so no process may keep it for long; but opening the file costs
~20 ms, which would make every small write (registering a model version,
moving an alias) slow.

So each process holds a *lease* on a database file:

* Every session first takes an exclusive ``flock`` on the sidecar
  ``<file>.lock``. DuckDB's own lock is not enough on its own to serialise
  processes that open and close the file in quick succession (measured: 4
  processes x 60 open-insert-close cycles could read a half-checkpointed
  file or lose a committed row), so the flock is held from before
  ``duckdb.connect`` until after ``close`` returns.
* After a session ends, the process keeps the flock and the open connection
  for up to :data:`HOLD_SECONDS` of idleness, so the next call costs
  microseconds instead of a reconnect.
* A process that wants the file while another one holds it announces itself
  with a shared ``flock`` on ``<file>.wait`` while it waits, and rings the
  holder's bell. The holder checks for such waiters after each session and,
  while idle, on a background thread the bell wakes (see
  :mod:`mlops_lab.catalog.handover`), and hands the file over (closes, which
  checkpoints, and unlocks) as soon as one appears.

Sessions on a lease (and retries on conflict) are in
:mod:`mlops_lab.catalog.connection`. A workspace the user cannot write (a
read-only mount, another user's files) is opened read-only. What DuckDB's own
failures mean (damaged, full, read-only) is decided in
:mod:`mlops_lab.catalog.faults`.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from mlops_lab.catalog.faults import (
    READ_ONLY_ERRNOS,
    check_complete,
    file_identity,
    has_wal,
    is_disk_full,
    is_lock_error,
    is_permission_error,
    translate_error,
)
from mlops_lab.catalog.handover import (
    HOLD_SECONDS,
    POLL_SECONDS,
    Keeper,
    Waiters,
)
from mlops_lab.catalog.journal import Journal, Memo
from mlops_lab.catalog.retry import RetryPolicy
from mlops_lab.errors import CatalogBusyError, DiskFullError, ReadOnlyCatalogError

__all__ = [
    "HOLD_SECONDS",
    "POLL_SECONDS",
    "Lease",
    "lease_for",
    "release",
    "release_all",
]

T = TypeVar("T")

QUANTUM_SECONDS = 0.02
"""A busy holder keeps the file at least this long (or twice what opening it cost, if more)
before handing it to a waiting process: a hand-over costs ~25 ms (checkpoint, close, open),
so writers take turns in batches."""

log = logging.getLogger("mlops_lab.catalog")

_WAITER_POLICY = RetryPolicy(first_delay=0.0005, max_delay=0.005)
"""How often a process waiting for another mlops-lab process's flock tries again."""


class Lease:
    """This process's hold on one database file: its flock and an open connection."""

    def __init__(self, path: Path, threads: int | None) -> None:
        self.path = path
        self.threads = threads
        self.mutex = threading.RLock()
        self.lock_fd: int | None = None
        self.waiters = Waiters(path)
        self.con: duckdb.DuckDBPyConnection | None = None
        self.read_only = False
        self.identity: tuple[int, ...] | None = None
        self.last_used = 0.0
        self.taken_at = 0.0
        self.quantum = QUANTUM_SECONDS
        self.depth = 0
        self.journal = Journal(path)
        self.memo = Memo(self._read_for_memo)

    def _read_for_memo(self, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        assert self.con is not None, "the memo is only read while the lease is held"
        self.apply_journal()
        return read(self.con)

    def apply_journal(self) -> None:
        """Run the journal's pending writes (this process's or a dead one's) now."""
        if self.con is not None and not self.read_only and self.journal.pending():
            try:
                self.journal.apply(self.con)
            except (duckdb.Error, OSError) as exc:
                translated = translate_error(self.path, exc)
                if translated is not None:
                    raise translated from exc
                raise

    # Taking and giving back --------------------------------------------------

    def _open_lock_file(self) -> int | None:
        try:
            return os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            if is_disk_full(exc):
                raise DiskFullError(self.path, exc.strerror or str(exc)) from exc
            if exc.errno not in READ_ONLY_ERRNOS:
                raise
        self.read_only = True
        try:
            return os.open(f"{self.path}.lock", os.O_RDONLY)
        except OSError:
            return None  # nobody can write here, so nobody to keep out

    def _flock(self, fd: int, policy: RetryPolicy, start: float) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        with self.waiters.announce():  # the holder hands over
            delays = _WAITER_POLICY.delays()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    waited = time.monotonic() - start
                    if waited >= policy.timeout:
                        raise CatalogBusyError(
                            self.path, waited, "another mlops-lab session"
                        ) from None
                    time.sleep(next(delays))

    def _connect(self, policy: RetryPolicy, start: float) -> duckdb.DuckDBPyConnection:
        if not self.read_only and not os.access(self.path.parent, os.W_OK):
            self.read_only = True
        if self.read_only and not self.path.exists():
            raise ReadOnlyCatalogError(self.path, "it does not exist and cannot be created")
        delays = policy.delays()
        while True:
            replays = has_wal(self.path)
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only)
                con.execute("SET TimeZone = 'UTC'")
                if self.threads:
                    # A setting, not connect() config: a notebook may connect() to the same
                    # file in this process, which DuckDB refuses when configurations differ.
                    con.execute(f"SET threads = {int(self.threads)}")
                if not replays:
                    check_complete(self.path, con)
                return con
            except duckdb.Error as exc:
                if not self.read_only and is_permission_error(exc):
                    self.read_only = True
                    continue
                translated = translate_error(self.path, exc)
                if translated is not None:
                    raise translated from exc
                if not is_lock_error(exc):
                    raise
                # Another program (not going through mlops-lab) has the file open.
                waited = time.monotonic() - start
                if waited >= policy.timeout:
                    raise CatalogBusyError(
                        self.path, waited, str(exc).split(". See also")[0]
                    ) from exc
                time.sleep(next(delays))

    def take(self, policy: RetryPolicy, start: float) -> duckdb.DuckDBPyConnection:
        """The open connection; call with ``mutex`` held."""
        if self.con is not None and self.identity != file_identity(self.path):
            self.abandon()
        if self.con is not None:
            return self.con
        self.read_only = False
        fd = self._open_lock_file()
        try:
            if fd is not None:
                self._flock(fd, policy, start)
            opening = time.monotonic()
            self.con = self._connect(policy, start)
            # Hand over no sooner than twice what taking the file cost: at most a third of a
            # busy catalog's time goes to hand-overs, however slow the machine is.
            self.quantum = max(QUANTUM_SECONDS, 2 * (time.monotonic() - opening))
        except BaseException:
            if fd is not None:
                os.close(fd)  # closing the only descriptor releases a held flock
            self.con = None
            raise
        self.lock_fd = fd
        self.identity = file_identity(self.path)
        self.taken_at = time.monotonic()
        self.memo.clear()
        _keeper.watch(self)
        return self.con

    def settled(self) -> None:
        """Remember the file as this process left it (DuckDB changes it only at checkpoints)."""
        self.identity = file_identity(self.path)

    def give_back(self) -> None:
        """Close the connection (a checkpoint) and release the flock; call with ``mutex`` held."""
        if self.con is not None and self.identity != file_identity(self.path):
            self.abandon()
            return
        try:
            self.apply_journal()
        except Exception as exc:  # kept on disk: the next holder applies it
            log.warning("catalog %s: journal left for the next session (%s)", self.path, exc)
        self.memo.clear()
        self.journal.close()
        con, fd = self.con, self.lock_fd
        self.con, self.lock_fd, self.identity = None, None, None
        try:
            if con is not None:
                with suppress(duckdb.Error):
                    con.close()
        finally:
            if fd is not None:
                os.close(fd)
            self._let_go_of_bell()

    def _let_go_of_bell(self) -> None:
        """Have the keeper unbind this file's bell now (it binds and unbinds it, never a
        session), so the next holder can bind it."""
        if self.waiters.bell is not None:
            _keeper.nudge()

    def abandon(self) -> None:
        """Let go of a file changed behind this process's back, without writing to it.

        Someone replaced, restored or overwrote the catalog while this process
        held it: a checkpoint now would write stale pages into their file, so
        the connection is closed without one and its write-ahead log (writes
        to the file that is gone) is moved aside.
        """
        log.warning(
            "catalog %s changed while this process held it (replaced or restored?); "
            "reopening it without writing to it",
            self.path,
        )
        con, fd = self.con, self.lock_fd
        self.con, self.lock_fd, self.identity = None, None, None
        self.memo.clear()
        try:
            if con is not None:
                with suppress(duckdb.Error):
                    con.execute("PRAGMA disable_checkpoint_on_shutdown")
                    con.close()
            wal = Path(f"{self.path}.wal")
            if wal.exists():
                aside = wal.with_name(f"{wal.name}.abandoned-{time.time_ns()}")
                with suppress(OSError):
                    wal.rename(aside)
        finally:
            if fd is not None:
                os.close(fd)
            self._let_go_of_bell()

    def forget(self) -> None:
        """In a forked child: drop the parent's connection and lock without touching them."""
        if self.con is not None:
            _ORPHANS.append(self.con)  # never closed here: closing would checkpoint the file
        if self.lock_fd is not None:
            with suppress(OSError):
                os.close(self.lock_fd)  # the parent's descriptor keeps the flock
        self.waiters.forget()
        self.journal.forget()
        self.memo.clear()
        self.con, self.lock_fd, self.identity = None, None, None
        self.mutex = threading.RLock()
        self.depth = 0


_keeper = Keeper()
_LEASES: dict[str, Lease] = {}
_LEASES_GUARD = threading.Lock()
_ORPHANS: list[duckdb.DuckDBPyConnection] = []


def lease_for(path: Path, threads: int | None = None) -> Lease:
    key = os.path.abspath(path)
    with _LEASES_GUARD:
        lease = _LEASES.get(key)
        if lease is None:
            lease = _LEASES[key] = Lease(Path(key), threads)
        return lease


def release(path: Path) -> None:
    """Give back ``path`` if this process holds it (before moving or replacing the file)."""
    lease = lease_for(path)
    with lease.mutex:
        lease.give_back()


def release_all() -> None:
    """Give back every database file this process holds (at exit, or before a fork)."""
    for lease in list(_LEASES.values()):
        with lease.mutex:
            lease.give_back()
            lease.waiters.close_wait_file()


def _after_fork_in_child() -> None:
    global _keeper, _LEASES_GUARD
    for lease in list(_LEASES.values()):
        lease.forget()
    _LEASES.clear()
    _LEASES_GUARD = threading.Lock()
    _keeper.forget()  # the parent's keeper pipe; its thread is not in this process
    _keeper = Keeper()


atexit.register(release_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
