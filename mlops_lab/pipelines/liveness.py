"""Whether a run's runner process is still there, checked whenever runs are read.

A run being carried out records its runner's host and PID in the catalog
(``runs.runner_host``, ``runs.runner_pid``) and, in a small lease file
``<state>/runners/<run_id>.json``, when that process started. PIDs are
reused, so a run counts as alive only while a process with that PID *and*
that start time exists; a zombie (killed, not yet reaped) counts as dead. A
run of this host whose runner is gone is marked ``interrupted``. Runs
recorded on another host are left as they are: their runner cannot be seen
from here.

The check costs one small file read and one ``/proc/<pid>/stat`` read per run
marked running on this host, inside the transaction that reads the runs.
"""

from __future__ import annotations

import functools
import json
import os
import socket
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import duckdb

from mlops_lab.catalog import Catalog
from mlops_lab.errors import CatalogError

__all__ = [
    "INTERRUPTED_ERROR",
    "dead_runs",
    "forget_runner",
    "mark_interrupted",
    "process_start",
    "record_runner",
    "runner_alive",
    "runners_dir",
    "settle_dead_runs",
]

INTERRUPTED_ERROR = "the runner stopped before the run finished (killed?)"
_PROC = Path("/proc")


def runners_dir(catalog: Catalog) -> Path:
    """Where the runners' lease files of this catalog's workspace live."""
    return catalog.path.parent / "runners"


@functools.cache
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """A token for when process ``pid`` started (the same while it lives), or None when
    there is no such live process (gone, or a zombie)."""
    if pid <= 0:
        return None
    try:
        data = (_PROC / str(pid) / "stat").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return _start_elsewhere(pid)
    # pid (comm) state ... : comm may hold spaces and parentheses, so split after the last ")".
    fields = data[data.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return f"{_boot_id()}:{int(fields[19])}"  # field 22: start time in clock ticks after boot


def _start_elsewhere(pid: int) -> str | None:
    """Without /proc: psutil's create time when installed, else only whether the PID exists."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""  # alive, start time unknown
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return f"{process.create_time():.3f}"
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:
        return ""


def _lease_path(folder: Path, run_id: str) -> Path:
    return folder / f"{run_id}.json"


def record_runner(catalog: Catalog, run_id: str, pid: int) -> None:
    """Write the lease of ``run_id``: the runner's PID and start time (best effort)."""
    folder = runners_dir(catalog)
    lease = {"pid": pid, "start": process_start(pid), "host": socket.gethostname()}
    with suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{run_id}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(lease))
        os.replace(tmp, _lease_path(folder, run_id))


def forget_runner(catalog: Catalog, run_id: str) -> None:
    with suppress(OSError):
        _lease_path(runners_dir(catalog), run_id).unlink(missing_ok=True)


def _read_lease(folder: Path, run_id: str) -> dict[str, Any] | None:
    try:
        lease = json.loads(_lease_path(folder, run_id).read_text())
    except (OSError, ValueError):
        return None
    return lease if isinstance(lease, dict) else None


def runner_alive(folder: Path, run_id: str, host: str | None, pid: int | None) -> bool:
    """Whether the runner recorded for a running run may still be carrying it out."""
    if host is not None and host != socket.gethostname():
        return True  # another machine's process: not ours to judge
    if pid is None:
        return False
    started = process_start(int(pid))
    if started is None:
        return False
    lease = _read_lease(folder, run_id)
    if lease is None or lease.get("pid") != pid or not lease.get("start") or not started:
        return True  # a run recorded before leases (or being handed over): the PID alone
    return bool(lease["start"] == started)  # else the PID now belongs to another process


def dead_runs(con: duckdb.DuckDBPyConnection, folder: Path) -> list[str]:
    """Runs marked running whose runner is gone (read in the caller's transaction)."""
    rows = con.execute(
        "SELECT id, runner_host, runner_pid FROM runs WHERE status = 'running'"
    ).fetchall()
    return [run_id for run_id, host, pid in rows if not runner_alive(folder, run_id, host, pid)]


def mark_interrupted(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str]) -> None:
    """Record runs as interrupted: their running stages too, stages not started skipped."""
    for run_id in run_ids:
        con.execute(
            "UPDATE runs SET status = 'interrupted', ended_at = current_timestamp, error = ? "
            "WHERE id = ? AND status = 'running'",
            [INTERRUPTED_ERROR, run_id],
        )
        con.execute(
            "UPDATE stage_runs SET status = 'interrupted', ended_at = current_timestamp "
            "WHERE run_id = ? AND status = 'running'",
            [run_id],
        )
        con.execute(
            "UPDATE stage_runs SET status = 'skipped' WHERE run_id = ? AND status = 'pending'",
            [run_id],
        )


def settle_dead_runs(catalog: Catalog, run_ids: Sequence[str] | None = None) -> list[str]:
    """Mark runs whose runner is gone as interrupted (``run_ids``: found dead already);
    return those marked. A catalog this process cannot write is left as it is."""
    folder = runners_dir(catalog)

    def write(con: duckdb.DuckDBPyConnection) -> list[str]:
        dead = dead_runs(con, folder) if run_ids is None else list(run_ids)
        mark_interrupted(con, dead)
        return dead

    if run_ids is None:
        found = catalog.transaction(lambda con: dead_runs(con, folder), write=False)
        if not found:
            return []
    try:
        dead = catalog.transaction(write)
    except CatalogError:  # e.g. a read-only workspace: readers show the runs interrupted
        return []
    for run_id in dead:
        forget_runner(catalog, run_id)
    return dead
