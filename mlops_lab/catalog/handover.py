"""How a process that holds a database file learns that another one waits for it, and
gives the file back (see :mod:`mlops_lab.catalog.lease`).

* A waiter announces itself with a shared ``flock`` on ``<file>.wait`` for as long as it
  waits, and rings the holder's bell once: a datagram, sent without blocking, to an
  abstract Unix socket named for the file (:meth:`Waiters.announce`). Only the holder's
  keeper binds that name, so a ring reaches the holder or nobody; being abstract, it
  leaves nothing in the workspace (a FIFO there would break copying it).
* Each process has one keeper thread (:class:`Keeper`). It gives back a lease idle for
  :data:`HOLD_SECONDS`, and one whose holder has paused (or had its quantum) while
  someone waits. It sleeps until a ring, the next hold deadline, or
  :data:`SAFETY_SECONDS`; while someone waits and the holder is not due yet, or where it
  has no bell (not Linux, the name taken), it looks every :data:`POLL_SECONDS`.

Before the bell, an idle holder looked for waiters every 2 ms: 4-5% of a core for a
long-running process (an ``mlops-lab ingest``, the Jupyter server) that does nothing. A
ring wakes it at once; the safety look catches a waiter that cannot ring (an older
mlops-lab, another network namespace).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import socket
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol

__all__ = [
    "HOLD_SECONDS",
    "PAUSE_SECONDS",
    "POLL_SECONDS",
    "SAFETY_SECONDS",
    "Keeper",
    "Waiters",
]

HOLD_SECONDS = float(os.environ.get("MLOPS_LAB_CATALOG_HOLD", "2.0"))
"""How long an idle process keeps a database file open when nobody else wants it."""

PAUSE_SECONDS = 0.005
"""A holder that has not used the file for this long has paused: a waiter may have it."""

POLL_SECONDS = 0.002
"""How often the keeper looks while someone waits for a file it holds, or without a bell."""

SAFETY_SECONDS = 0.05
"""How often an idle holder with a bell looks for waiters anyway."""

_BELLS = sys.platform.startswith("linux")  # abstract socket names are Linux's


class Waiters:
    """The ``.wait`` lock and the bell of one database file."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.wait_path = f"{os.fspath(path)}.wait"
        digest = hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:40]
        self.address = b"\0mlops-lab-bell/" + digest.encode()
        self.wait_fd: int | None = None
        self.bell: socket.socket | None = None  # bound while held; only the keeper touches it

    def _wait_file(self) -> int | None:
        if self.wait_fd is None:
            try:
                self.wait_fd = os.open(self.wait_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                try:
                    self.wait_fd = os.open(self.wait_path, os.O_RDONLY)
                except OSError:
                    return None
        return self.wait_fd

    def someone_waits(self) -> bool:
        """True while another process holds a shared lock on ``<file>.wait``."""
        fd = self._wait_file()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    @contextmanager
    def announce(self) -> Iterator[None]:
        """While waiting for the file: the shared lock held, the holder's bell rung once."""
        fd = self._wait_file()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            self.ring()
            yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def ring(self) -> None:
        """Wake the holder's keeper, if it has a bell (else nothing happens)."""
        if not _BELLS:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as out, suppress(OSError):
            out.setblocking(False)  # refused: no bell; would block: rung already
            out.sendto(b"\0", self.address)

    def open_bell(self) -> socket.socket | None:
        """The bell, bound to this file's name (None: no bells here, or another process
        still has it: its keeper lets go once it sees it gave the file back)."""
        if self.bell is None and _BELLS:
            bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                bell.bind(self.address)
            except OSError:
                bell.close()
                return None
            bell.setblocking(False)
            self.bell = bell
        return self.bell

    def close_bell(self) -> None:
        if self.bell is not None:
            self.bell.close()
            self.bell = None

    def close_wait_file(self) -> None:
        """Close ``<file>.wait`` (at exit; opened again when needed)."""
        if self.wait_fd is not None:
            with suppress(OSError):
                os.close(self.wait_fd)
            self.wait_fd = None

    def forget(self) -> None:
        """In a forked child: close its copies (the parent's stay open, its bell bound)."""
        self.close_wait_file()
        self.close_bell()


class Held(Protocol):
    """What the keeper reads and calls on a lease (:class:`mlops_lab.catalog.lease.Lease`)."""

    mutex: Any  # an RLock
    con: Any
    depth: int
    last_used: float
    taken_at: float
    quantum: float
    waiters: Waiters

    def give_back(self) -> None: ...


def _sooner(timeout: float | None, other: float) -> float:
    return other if timeout is None else min(timeout, other)


class Keeper:
    """One background thread per process: gives idle leases back when due or wanted."""

    def __init__(self) -> None:
        self.leases: weakref.WeakSet[Any] = weakref.WeakSet()
        self.thread: threading.Thread | None = None
        self.guard = threading.Lock()
        self.sweeps = 0  # how often it looked (for tests: an idle holder rarely looks)
        self._nudge_r, self._nudge_w = os.pipe()
        os.set_blocking(self._nudge_r, False)
        os.set_blocking(self._nudge_w, False)

    def watch(self, lease: Held) -> None:
        with self.guard:
            self.leases.add(lease)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="mlops-lab-catalog-lease", daemon=True
                )
                self.thread.start()
        self.nudge()

    def nudge(self) -> None:
        """Make the keeper look now."""
        with suppress(BlockingIOError):
            os.write(self._nudge_w, b"\0")

    def forget(self) -> None:
        """In a forked child: close this keeper's pipe (the child makes its own keeper)."""
        for fd in (self._nudge_r, self._nudge_w):
            with suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while True:
            timeout, bells = self._sweep()
            self._sleep(bells, timeout)

    def _sweep(self) -> tuple[float | None, list[int]]:
        """Give back what is due; how long to sleep (None: until nudged) and which bells
        to listen to meanwhile (bound and closed here only: never one it is waiting on)."""
        self.sweeps += 1
        timeout: float | None = None
        bells: list[int] = []
        for lease in list(self.leases):
            if lease.con is None:
                lease.waiters.close_bell()  # given back: the next holder rings its own
                continue
            if not lease.mutex.acquire(blocking=False):
                timeout = _sooner(timeout, POLL_SECONDS)  # in a session: look again soon
                continue
            try:
                if lease.con is None:
                    lease.waiters.close_bell()
                    continue
                if lease.depth:
                    continue
                now = time.monotonic()
                idle = now - lease.last_used
                if idle >= HOLD_SECONDS:
                    lease.give_back()
                    lease.waiters.close_bell()
                    continue
                if lease.waiters.someone_waits():
                    # A holder between two calls of a loop is not idle: hand over to a waiter
                    # once it pauses (or has had its quantum), as at the end of a session.
                    if idle >= PAUSE_SECONDS or now - lease.taken_at >= lease.quantum:
                        lease.give_back()
                        lease.waiters.close_bell()
                    else:
                        timeout = _sooner(timeout, POLL_SECONDS)
                    continue
                bell = lease.waiters.open_bell()
                if bell is not None:
                    bells.append(bell.fileno())
                every = SAFETY_SECONDS if bell is not None else POLL_SECONDS
                timeout = _sooner(timeout, min(every, HOLD_SECONDS - idle))
            finally:
                lease.mutex.release()
        return timeout, bells

    def _sleep(self, bells: list[int], timeout: float | None) -> None:
        """Until a ring on ``bells``, a nudge, or ``timeout`` s; what woke it is read."""
        poller = select.poll()
        for fd in (self._nudge_r, *bells):
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(None if timeout is None else max(timeout, 0.0) * 1000):
            with suppress(OSError):  # BlockingIOError once read empty
                while os.read(fd, 64):
                    pass
